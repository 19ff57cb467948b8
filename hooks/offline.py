"""MkDocs hook: reading the site makes no request to a third party.

With ``repo_url`` on GitHub, Material's JavaScript asks ``api.github.com`` for the
repository's stars, forks and latest release to show beside the repository link. That is a
request to another origin on every first page view: it fails offline and behind strict
headers, and it tells GitHub who reads the docs. This hook drops the attribute that makes
Material fetch those facts; the repository link itself stays. (``theme.font: false`` does
the same for Google Fonts; see mkdocs.yml.) The 404 page is built from a bare template, so
the hook covers that path too.
"""

from __future__ import annotations

import re

_SOURCE_FACTS = re.compile(r'\s+data-md-component="source"')


def on_post_page(output, page, config):
    """Remove the repository-facts trigger from the page's HTML."""
    return _SOURCE_FACTS.sub("", output)


def on_post_template(output_content, template_name, config):
    """Do the same for pages built from a bare template: ``404.html``."""
    if template_name.endswith(".html"):
        return _SOURCE_FACTS.sub("", output_content)
    return output_content

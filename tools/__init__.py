"""Developer tools of the repository: never part of the dosim wheel.

Imported by the MkDocs hooks, the tests and the benchmarks with the repository root on
``sys.path`` (each of them puts it there); the scripts here also run on their own.
"""

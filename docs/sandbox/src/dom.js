// One small helper to build DOM nodes, shared by the sandbox and its Objects panel.

/**
 * `el("p", {class: "x", onclick: f, "aria-label": "y"}, "text", node, [more])`: a new
 * element with those attributes (`class` sets the class name, `on…` adds a listener), and
 * those children (arrays are flattened; null and undefined are skipped; anything that is
 * not a node becomes text).
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children.flat(Infinity)) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

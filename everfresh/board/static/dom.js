// Build the board's DOM with text only (never markup), and reorder it without losing focus.

/** Create an element with a class and text (set as textContent, never parsed). */
export function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Create a button that runs `onClick`. */
export function button(text, onClick, className = "") {
  const node = element("button", className, text);
  node.type = "button";
  node.addEventListener("click", onClick);
  return node;
}

/** Create a labelled control: <label><span>text</span>control</label>. */
export function labelled(text, control, className = "") {
  const label = element("label", className);
  label.append(element("span", "label-text", text), control);
  return label;
}

/** Put exactly `children`, in order, into `parent`, moving only what is out of place. */
export function placeChildren(parent, children) {
  children.forEach((child, index) => {
    if (parent.children[index] !== child) parent.insertBefore(child, parent.children[index] || null);
  });
  while (parent.children.length > children.length) parent.lastElementChild.remove();
}

/** Fill a <select> with [value, text] pairs, keeping it as it is when nothing changed. */
export function setOptions(select, options, chosen) {
  const signature = JSON.stringify(options);
  if (select.dataset.signature !== signature) {
    select.replaceChildren(
      ...options.map(([value, text]) => {
        const option = element("option", "", text);
        option.value = value;
        return option;
      }),
    );
    select.dataset.signature = signature;
  }
  select.value = chosen ?? "";
}

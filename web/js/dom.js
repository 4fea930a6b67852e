// Small helpers to build DOM nodes and format values; no framework, no innerHTML with data.

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name === 'text') node.textContent = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? '' : value);
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : String(child));
  }
}

const SVG = 'http://www.w3.org/2000/svg';
export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null) continue;
    if (name === 'text') node.textContent = value;
    else node.setAttribute(name, value);
  }
  for (const child of children.flat()) if (child) node.append(child);
  return node;
}

const moneyFormats = new Map();
export function money(amountMinor, currency) {
  let f = moneyFormats.get(currency);
  if (!f) {
    try {
      f = new Intl.NumberFormat(undefined, { style: 'currency', currency, maximumFractionDigits: 0 });
    } catch {
      f = { format: (v) => `${v.toFixed(0)} ${currency}` };
    }
    moneyFormats.set(currency, f);
  }
  return f.format(amountMinor / 100);
}

// A list of {amount_minor, currency} (one per currency, as the board gives totals).
export function moneyList(list) {
  if (!list || list.length === 0) return '0';
  return list.map((m) => money(m.amount_minor, m.currency)).join(' + ');
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
export function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateTime.format(d);
}

// Replaces a node's children.
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

// Announces a message to screen readers and shows it in the status bar.
export function announce(message, kind = 'info') {
  const bar = document.getElementById('status');
  if (!bar) return;
  bar.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  bar.textContent = message;
  bar.dataset.kind = kind;
  bar.hidden = !message;
}

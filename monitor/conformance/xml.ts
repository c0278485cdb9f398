// A small XML reader for the Portals test scripts: elements, attributes,
// comments and the XML declaration. Text content is kept only as a string
// per element (the scripts use it just for <desc>).

export interface XmlElement {
  readonly name: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: XmlElement[];
  text: string;
  /** Attribute order, as the harness walks attributes in document order. */
  readonly order: readonly string[];
}

class XmlError extends Error {}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function unescape(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-f]+);/gi, (_, e: string) => (e[0] === '#' ? String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10)) : ENTITIES[e]));
}

export function parseXml(src: string): XmlElement {
  let i = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  const fail = (msg: string): never => {
    const line = src.slice(0, i).split('\n').length;
    throw new XmlError(`line ${line}: ${msg}`);
  };
  while (i < src.length) {
    const lt = src.indexOf('<', i);
    if (lt < 0) {
      if (src.slice(i).trim() !== '') fail('text after the root element');
      break;
    }
    if (stack.length > 0) stack[stack.length - 1].text += unescape(src.slice(i, lt));
    i = lt;
    if (src.startsWith('<!--', i)) {
      const end = src.indexOf('-->', i + 4);
      if (end < 0) fail('unterminated comment');
      i = end + 3;
      continue;
    }
    if (src.startsWith('<?', i)) {
      const end = src.indexOf('?>', i + 2);
      if (end < 0) fail('unterminated declaration');
      i = end + 2;
      continue;
    }
    if (src.startsWith('</', i)) {
      const end = src.indexOf('>', i);
      if (end < 0) fail('unterminated end tag');
      const name = src.slice(i + 2, end).trim();
      const open = stack.pop();
      if (open === undefined || open.name !== name) fail(`</${name}> does not close <${open?.name ?? 'nothing'}>`);
      i = end + 1;
      continue;
    }
    const m = /^<([A-Za-z_][\w.-]*)/.exec(src.slice(i, i + 200));
    if (!m) fail('malformed tag');
    const name = m![1];
    i += m![0].length;
    const attrs: Record<string, string> = {};
    const order: string[] = [];
    for (;;) {
      while (/\s/.test(src[i] ?? '')) i++;
      if (src.startsWith('/>', i) || src[i] === '>') break;
      const am = /^([A-Za-z_][\w.-]*)\s*=\s*("([^"]*)"|'([^']*)')/.exec(src.slice(i, i + 4096));
      if (!am) fail(`malformed attribute in <${name}>`);
      attrs[am![1]] = unescape(am![3] ?? am![4]);
      order.push(am![1]);
      i += am![0].length;
    }
    const el: XmlElement = { name, attrs, children: [], text: '', order };
    if (stack.length > 0) stack[stack.length - 1].children.push(el);
    else if (root === null) root = el;
    else fail('more than one root element');
    if (src.startsWith('/>', i)) i += 2;
    else {
      i += 1;
      stack.push(el);
    }
  }
  if (stack.length > 0) fail(`<${stack[stack.length - 1].name}> is not closed`);
  if (root === null) throw new XmlError('no root element');
  return root;
}

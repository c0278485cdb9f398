// Typed values of the Portals test scripts: parsing "0x4a", "-3",
// "(0.5, 0.25)" for a datatype, filling a buffer with a repeated value, and
// checking a buffer against one (floats within the harness's tolerances:
// 1e-6 for float, 1e-12 for double and long double).

import { readF80, writeF80 } from '../../kernel/portals/atomics.ts';
import { PTL, TYPE_SIZE } from '../../kernel/portals/defs.ts';

const FLOAT_EPS = 1e-6;
const DOUBLE_EPS = 1e-12;

function parseInt64(text: string): bigint {
  const t = text.trim();
  const neg = t.startsWith('-');
  const body = t.replace(/^[-+]/, '');
  let v: bigint;
  try {
    v = body.startsWith('0x') || body.startsWith('0X') ? BigInt(body) : /^0[0-7]+$/.test(body) ? BigInt('0o' + body.slice(1)) : BigInt(body.replace(/[^0-9].*$/, '') || '0');
  } catch {
    v = 0n;
  }
  return neg ? -v : v;
}

function parseComplex(text: string): [number, number] {
  const m = /\(\s*([^,]+),\s*([^)]+)\)/.exec(text);
  return m ? [parseFloat(m[1]), parseFloat(m[2])] : [parseFloat(text), 0];
}

/** One element of `type` as bytes. */
function encodeValue(type: number, text: string): Uint8Array {
  const size = TYPE_SIZE[type] ?? 1;
  const b = new Uint8Array(size);
  const dv = new DataView(b.buffer);
  switch (type) {
    case PTL.INT8_T: case PTL.UINT8_T: dv.setUint8(0, Number(BigInt.asUintN(8, parseInt64(text)))); break;
    case PTL.INT16_T: case PTL.UINT16_T: dv.setUint16(0, Number(BigInt.asUintN(16, parseInt64(text))), true); break;
    case PTL.INT32_T: case PTL.UINT32_T: dv.setUint32(0, Number(BigInt.asUintN(32, parseInt64(text))), true); break;
    case PTL.INT64_T: case PTL.UINT64_T: dv.setBigUint64(0, BigInt.asUintN(64, parseInt64(text)), true); break;
    case PTL.FLOAT: dv.setFloat32(0, parseFloat(text), true); break;
    case PTL.DOUBLE: dv.setFloat64(0, parseFloat(text), true); break;
    case PTL.LONG_DOUBLE: writeF80(dv, 0, parseFloat(text)); break;
    case PTL.FLOAT_COMPLEX: { const [re, im] = parseComplex(text); dv.setFloat32(0, re, true); dv.setFloat32(4, im, true); break; }
    case PTL.DOUBLE_COMPLEX: { const [re, im] = parseComplex(text); dv.setFloat64(0, re, true); dv.setFloat64(8, im, true); break; }
    case PTL.LONG_DOUBLE_COMPLEX: { const [re, im] = parseComplex(text); writeF80(dv, 0, re); writeF80(dv, 16, im); break; }
  }
  return b;
}

/** A buffer of `length` bytes holding `value` repeated (as set_data does; a trailing partial element is left zero). */
export function fillValue(type: number, text: string, length: number): Uint8Array {
  const one = encodeValue(type, text);
  const out = new Uint8Array(length);
  for (let at = 0; at + one.length <= length; at += one.length) out.set(one, at);
  return out;
}

/** Checks `data` (length bytes) against `text`; returns a description of the first mismatch or null. */
export function checkValue(type: number, text: string, data: Uint8Array): string | null {
  const size = TYPE_SIZE[type] ?? 1;
  const want = encodeValue(type, text);
  const wdv = new DataView(want.buffer);
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let at = 0; at + size <= data.length; at += size) {
    switch (type) {
      case PTL.FLOAT: case PTL.DOUBLE: case PTL.LONG_DOUBLE: {
        const get = (d: DataView, o: number) => (type === PTL.FLOAT ? d.getFloat32(o, true) : type === PTL.DOUBLE ? d.getFloat64(o, true) : readF80(d, o));
        const eps = type === PTL.FLOAT ? FLOAT_EPS : DOUBLE_EPS;
        const g = get(dv, at);
        const w = get(wdv, 0);
        if (!(g <= w + eps && g >= w - eps)) return `element at ${at}: got ${g}, expected ${w}`;
        break;
      }
      case PTL.FLOAT_COMPLEX: case PTL.DOUBLE_COMPLEX: case PTL.LONG_DOUBLE_COMPLEX: {
        const half = size / 2;
        const get = (d: DataView, o: number) => (type === PTL.FLOAT_COMPLEX ? d.getFloat32(o, true) : type === PTL.DOUBLE_COMPLEX ? d.getFloat64(o, true) : readF80(d, o));
        const eps = type === PTL.FLOAT_COMPLEX ? FLOAT_EPS : DOUBLE_EPS;
        for (const part of [0, half]) {
          const g = get(dv, at + part);
          const w = get(wdv, part);
          if (!(g <= w + eps && g >= w - eps)) return `element at ${at}: got ${g}, expected ${w} (${part ? 'imaginary' : 'real'} part)`;
        }
        break;
      }
      default:
        for (let i = 0; i < size; i++) {
          if (data[at + i] !== want[i]) return `element at ${at}: got 0x${[...data.subarray(at, at + size)].reverse().map((x) => x.toString(16).padStart(2, '0')).join('')}, expected ${text}`;
        }
    }
  }
  return null;
}

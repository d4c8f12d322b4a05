// resource.Quantity as apimachinery keeps it: an exact decimal with the format
// its suffix implied, printed back in canonical form ("2000m" is "2", "1024Mi"
// is "1Gi", "0.5" is "500m"). Validation messages quote quantities this way
// and the API server stores them so, whatever the client wrote. Exact
// arithmetic (bigint) because canonical form depends on trailing digits a
// float would lose.

export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

/** value = sign · mant · 10^exp, with mant ≥ 0. */
export interface Quantity { negative: boolean; mant: bigint; exp: number; format: QuantityFormat }

const DEC: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BIN: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const DEC_SUFFIX = Object.fromEntries(Object.entries(DEC).map(([s, e]) => [e, s])) as Record<number, string>;
const BIN_SUFFIX = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

const QUANTITY = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(.*)$/;

/** resource.ParseQuantity; undefined where it fails (the decoder has already refused those). */
export function parseQuantityExact(input: unknown): Quantity | undefined {
  const text = typeof input === 'number' ? numberText(input) : typeof input === 'string' ? input.trim() : undefined;
  if (!text) return undefined;
  const m = QUANTITY.exec(text);
  if (!m || (!m[2] && !m[3])) return undefined;
  const [, sign, whole, frac = '', suffix] = m;
  let mant = BigInt(`${whole}${frac}` || '0');
  let exp = -frac.length;
  let format: QuantityFormat;
  if (suffix in DEC) {
    format = 'DecimalSI';
    exp += DEC[suffix];
  } else if (suffix in BIN) {
    format = 'BinarySI';
    mant *= 1024n ** BigInt(BIN[suffix]);
  } else if (/^[eE][-+]?[0-9]+$/.test(suffix)) {
    format = 'DecimalExponent';
    exp += Number(suffix.slice(1));
  } else return undefined;
  // A binary quantity below 1 is decimal (ParseQuantity avoids confusing rounding).
  if (format === 'BinarySI' && mant !== 0n && compareAbs(mant, exp, 1n, 0) < 0) format = 'DecimalSI';
  return normalise({ negative: sign === '-' && mant !== 0n, mant, exp, format });
}

/** Quantity.String(): canonical form. */
export function canonicalQuantity(q: Quantity): string {
  if (q.mant === 0n) return '0';
  const sign = q.negative ? '-' : '';
  if (q.format === 'BinarySI' && compareAbs(q.mant, q.exp, 1024n, 0) >= 0 && q.exp >= 0) {
    let n = q.mant * 10n ** BigInt(q.exp);
    let k = 0;
    while (n >= 1024n && n % 1024n === 0n && k < 6) {
      n /= 1024n;
      k++;
    }
    return `${sign}${n}${BIN_SUFFIX[k]}`;
  }
  // DecimalSI (also a binary quantity that is below 1024 or not whole) and DecimalExponent.
  let { mant, exp } = q;
  const shift = ((exp % 3) + 3) % 3;
  mant *= 10n ** BigInt(shift);
  exp -= shift;
  if (q.format === 'DecimalExponent') return `${sign}${mant}${exp === 0 ? '' : `e${exp}`}`;
  const suffix = DEC_SUFFIX[exp];
  return suffix === undefined ? `${sign}${mant}e${exp}` : `${sign}${mant}${suffix}`;
}

/** The canonical text of a quantity as sent (a JSON string or number), or the input itself when it does not parse. */
export function canonicalText(input: unknown): unknown {
  const q = parseQuantityExact(input);
  return q ? canonicalQuantity(q) : input;
}

/** Quantity.RoundUp(scale): away from zero, to 10^scale (SetDefaults_ResourceList rounds to milli). */
export function roundUp(q: Quantity, scale: number): Quantity {
  if (q.exp >= scale) return q;
  const div = 10n ** BigInt(scale - q.exp);
  const mant = (q.mant + div - 1n) / div;
  return normalise({ ...q, mant, exp: scale });
}

/** Quantity.Cmp. */
export function compareQuantities(a: Quantity, b: Quantity): number {
  const sa = a.mant === 0n ? 0 : a.negative ? -1 : 1;
  const sb = b.mant === 0n ? 0 : b.negative ? -1 : 1;
  if (sa !== sb) return sa < sb ? -1 : 1;
  const c = compareAbs(a.mant, a.exp, b.mant, b.exp);
  return sa < 0 ? -c : c;
}

export const isNegative = (q: Quantity) => q.negative && q.mant !== 0n;

function compareAbs(am: bigint, ae: number, bm: bigint, be: number): number {
  const e = Math.min(ae, be);
  const x = am * 10n ** BigInt(ae - e);
  const y = bm * 10n ** BigInt(be - e);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Trailing zeros moved into the exponent, so equal values look alike. */
function normalise(q: Quantity): Quantity {
  let { mant, exp } = q;
  if (mant === 0n) return { ...q, mant, exp: 0, negative: false };
  while (mant % 10n === 0n) {
    mant /= 10n;
    exp++;
  }
  return { ...q, mant, exp };
}

/** A JSON number as its decimal text (no exponent for the values manifests carry). */
function numberText(n: number): string {
  if (!Number.isFinite(n)) return '';
  const s = String(n);
  if (!/e/i.test(s)) return s;
  const [m, e] = s.split(/e/i);
  return `${m}e${Number(e)}`;
}

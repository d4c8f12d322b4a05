// The building blocks every validator shares: field.Error's constructors,
// worded as ErrorBody prints them (k8s.io/apimachinery/pkg/util/validation/
// field/errors.go), and apimachinery's string checks (pkg/util/validation/
// validation.go, v0.32.0) with their exact messages.
import type { StatusCause } from './status.ts';

const regexError = (msg: string, fmt: string, ...examples: string[]) =>
  `${msg} (e.g. ${examples.map((e) => `'${e}', `).join(' or ')}regex used for validation is '${fmt}')`;

const DNS1123_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN = `${DNS1123_LABEL}(\\.${DNS1123_LABEL})*`;
const DNS1035_LABEL = '[a-z]([-a-z0-9]*[a-z0-9])?';
const QUALIFIED_NAME = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const LABEL_VALUE = `(${QUALIFIED_NAME})?`;
const CONFIG_MAP_KEY = '[-._a-zA-Z0-9]+';
const HTTP_HEADER_NAME = '[-A-Za-z0-9]+';
const full = (re: string) => new RegExp(`^${re}$`);

export function dns1123Subdomain(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 253) errs.push('must be no more than 253 characters');
  if (!full(DNS1123_SUBDOMAIN).test(v)) errs.push(regexError("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character", DNS1123_SUBDOMAIN, 'example.com'));
  return errs;
}

export function dns1123Label(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push('must be no more than 63 characters');
  if (!full(DNS1123_LABEL).test(v)) {
    errs.push(full(DNS1123_SUBDOMAIN).test(v) ? 'must not contain dots' : regexError("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character", DNS1123_LABEL, 'my-name', '123-abc'));
  }
  return errs;
}

export function dns1035Label(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push('must be no more than 63 characters');
  if (!full(DNS1035_LABEL).test(v)) errs.push(regexError("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character", DNS1035_LABEL, 'my-name', 'abc-123'));
  return errs;
}

const QN_MSG = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

export function qualifiedName(v: string): string[] {
  const parts = v.split('/');
  const errs: string[] = [];
  let name = parts[0];
  if (parts.length === 2) {
    name = parts[1];
    if (!parts[0]) errs.push('prefix part must be non-empty');
    else errs.push(...dns1123Subdomain(parts[0]).map((m) => `prefix part ${m}`));
  } else if (parts.length > 2) {
    return [`a qualified name ${regexError(QN_MSG, QUALIFIED_NAME, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`];
  }
  if (!name) errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push('name part must be no more than 63 characters');
  if (!full(QUALIFIED_NAME).test(name)) errs.push(`name part ${regexError(QN_MSG, QUALIFIED_NAME, 'MyName', 'my.name', '123-abc')}`);
  return errs;
}

export function labelValue(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push('must be no more than 63 characters');
  if (!full(LABEL_VALUE).test(v)) errs.push(regexError("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", LABEL_VALUE, 'MyValue', 'my_value', '12345'));
  return errs;
}

/** IsValidPortNum and IsInRange. */
export const inclusiveRange = (lo: number, hi: number) => `must be between ${lo} and ${hi}, inclusive`;
export const portNum = (p: number): string[] => (p >= 1 && p <= 65535 ? [] : [inclusiveRange(1, 65535)]);
/** IsValidUserID / IsValidGroupID: 0 … MaxInt32. */
export const unixId = (id: number): string[] => (id >= 0 && id <= 2147483647 ? [] : [inclusiveRange(0, 2147483647)]);

/** IsValidPortName: an IANA_SVC_NAME. */
export function portName(port: string): string[] {
  const errs: string[] = [];
  if (port.length > 15) errs.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(port)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(port)) errs.push('must contain at least one letter (a-z)');
  if (port.includes('--')) errs.push('must not contain consecutive hyphens');
  if (port.startsWith('-') || port.endsWith('-')) errs.push('must not begin or end with a hyphen');
  return errs;
}

/** IsRelaxedEnvVarName (RelaxedEnvironmentVariableValidation is on by default in 1.32): printable ASCII but '='. */
export function relaxedEnvVarName(v: string): string[] {
  if (!v.length) return ['environment variable name must be non-empty'];
  for (const ch of v) {
    const c = ch.codePointAt(0)!;
    if (c > 0x7e || c < 0x20 || ch === '=') return ["a valid environment variable name must consist only of printable ASCII characters other than '='"];
  }
  return [];
}

function chDirPrefix(v: string): string[] {
  if (v === '.') return ["must not be '.'"];
  if (v === '..') return ["must not be '..'"];
  return v.startsWith('..') ? ["must not start with '..'"] : [];
}

/** IsConfigMapKey: also what a Secret's or ConfigMap's key selector must be. */
export function configMapKey(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 253) errs.push('must be no more than 253 characters');
  if (!full(CONFIG_MAP_KEY).test(v)) errs.push(regexError("a valid config key must consist of alphanumeric characters, '-', '_' or '.'", CONFIG_MAP_KEY, 'key.name', 'KEY_NAME', 'key-name'));
  return [...errs, ...chDirPrefix(v)];
}

export function httpHeaderName(v: string): string[] {
  return full(HTTP_HEADER_NAME).test(v) ? [] : [`a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used for validation is '${HTTP_HEADER_NAME}')`];
}

/** Go's %q for a string, %v for numbers and booleans: how field.Invalid shows a bad value. */
export const goValue = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : typeof v === 'number' || typeof v === 'boolean' ? String(v) : v == null ? 'null' : JSON.stringify(v));

export const invalid = (field: string, value: string, detail: string): StatusCause => ({ reason: 'FieldValueInvalid', message: `Invalid value: ${value}: ${detail}`, field });
export const required = (field: string, detail = ''): StatusCause => ({ reason: 'FieldValueRequired', message: detail ? `Required value: ${detail}` : 'Required value', field });
export const forbidden = (field: string, detail: string): StatusCause => ({ reason: 'FieldValueForbidden', message: `Forbidden: ${detail}`, field });
export const duplicate = (field: string, value: string): StatusCause => ({ reason: 'FieldValueDuplicate', message: `Duplicate value: ${JSON.stringify(value)}`, field });
export const notFound = (field: string, value: string, detail = ''): StatusCause => ({ reason: 'FieldValueNotFound', message: `Not found: ${JSON.stringify(value)}${detail ? `: ${detail}` : ''}`, field });
export const notSupported = (field: string, value: string, supported: string[]): StatusCause => ({ reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`, field });

/** ValidateNonnegativeField. */
export const nonNegative = (v: unknown, field: string): StatusCause[] => (typeof v === 'number' && v < 0 ? [invalid(field, String(v), 'must be greater than or equal to 0')] : []);

/** Each message of a string check as a FieldValueInvalid cause on `field`. */
export const each = (msgs: string[], field: string, value: string): StatusCause[] => msgs.map((m) => invalid(field, goValue(value), m));

/** A list field as the validators see it: absent or not a list is empty. */
export const list = (v: unknown): any[] => (Array.isArray(v) ? v : []);

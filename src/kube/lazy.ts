// @kubernetes/client-node (some 870 modules) and undici (over 100) take a
// second or more to load. Everything under src/ reaches kube through its
// index.ts, so static imports of them here would make every command pay for
// them, even those that never talk to a cluster (`kubemend audit verify`,
// `silence add`). They are loaded on first use instead; require() of an ES
// module is synchronous in Node 24.
import { createRequire } from 'node:module';

type ClientNode = typeof import('@kubernetes/client-node');
type Undici = typeof import('undici');

const require = createRequire(import.meta.url);
let clientNodeLib: ClientNode | undefined;
let undiciLib: Undici | undefined;

export function clientNode(): ClientNode {
  return (clientNodeLib ??= require('@kubernetes/client-node') as ClientNode);
}

export function undici(): Undici {
  return (undiciLib ??= require('undici') as Undici);
}

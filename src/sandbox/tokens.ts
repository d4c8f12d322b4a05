// Service account tokens as kube-apiserver issues them (TokenRequest,
// `kubectl create token`): RS256 JWTs with the issuer, audiences and the
// `kubernetes.io` private claims of pkg/serviceaccount/claims.go. The signing
// key is made on first use (a 2048-bit key takes a moment) and kept in the
// state file, so tokens handed out before a restart stay valid after it.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import type { Clock } from '../common/index.ts';

/** The API server's issuer and default audience (`--service-account-issuer`, `--api-audiences`). */
export const ISSUER = 'https://kubernetes.default.svc.cluster.local';

export interface BoundRef {
  name: string;
  uid: string;
}

export interface TokenClaims {
  aud: string[];
  exp: number;
  iat: number;
  iss: string;
  jti: string;
  'kubernetes.io': {
    namespace: string;
    node?: BoundRef;
    pod?: BoundRef;
    secret?: BoundRef;
    serviceaccount: BoundRef;
  };
  nbf: number;
  sub: string;
}

export interface IssueRequest {
  namespace: string;
  serviceAccount: BoundRef;
  audiences: string[];
  expirationSeconds: number;
  bound?: { kind: 'Pod' | 'Secret' | 'Node'; ref: BoundRef };
}

/** A verified token's claims, a token of ours that fails (`error`), or undefined for a token this issuer did not make. */
export type Verified = { claims: TokenClaims } | { error: string } | undefined;

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

export class TokenIssuer {
  private key?: { privateKey: KeyObject; publicKey: KeyObject; kid: string };
  private readonly clock: Clock;

  constructor(clock: Clock) {
    this.clock = clock;
  }

  issue(req: IssueRequest): { token: string; claims: TokenClaims } {
    const key = this.signingKey();
    const now = Math.floor(this.clock.now() / 1000);
    const ki: TokenClaims['kubernetes.io'] = { namespace: req.namespace, serviceaccount: req.serviceAccount };
    if (req.bound?.kind === 'Pod') ki.pod = req.bound.ref;
    if (req.bound?.kind === 'Secret') ki.secret = req.bound.ref;
    if (req.bound?.kind === 'Node') ki.node = req.bound.ref;
    // The real token's claims come out of a Go map, so their keys are sorted.
    const claims: TokenClaims = {
      aud: req.audiences,
      exp: now + req.expirationSeconds,
      iat: now,
      iss: ISSUER,
      jti: randomUUID(),
      'kubernetes.io': Object.fromEntries(Object.entries(ki).sort(([a], [b]) => (a < b ? -1 : 1))) as TokenClaims['kubernetes.io'],
      nbf: now,
      sub: `system:serviceaccount:${req.namespace}:${req.serviceAccount.name}`,
    };
    const input = `${b64({ alg: 'RS256', kid: key.kid })}.${b64(claims)}`;
    const signature = sign('sha256', Buffer.from(input), key.privateKey).toString('base64url');
    return { token: `${input}.${signature}`, claims };
  }

  /** Checks signature, issuer, time window and (when given) that one of `audiences` is in the token. */
  verify(token: string, audiences: string[] = [ISSUER]): Verified {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    let claims: TokenClaims;
    try {
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    if (claims?.iss !== ISSUER) return undefined;
    const key = this.key;
    const ok = key !== undefined && verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), key.publicKey, Buffer.from(parts[2], 'base64url'));
    if (!ok) return { error: 'square/go-jose: error in cryptographic primitive' };
    const now = Math.floor(this.clock.now() / 1000);
    if (typeof claims.exp === 'number' && now > claims.exp) return { error: 'service account token has expired' };
    if (typeof claims.nbf === 'number' && now < claims.nbf) return { error: 'service account token is not valid yet' };
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!audiences.some((a) => aud.includes(a))) return { error: 'token audiences ' + JSON.stringify(aud) + ' is invalid for the target audiences ' + JSON.stringify(audiences) };
    if (!claims['kubernetes.io']?.serviceaccount?.name) return { error: 'service account token claims could not be validated' };
    return { claims };
  }

  /** The signing key for the state file (null until a token was issued). */
  save(): { privateKeyPem: string } | null {
    return this.key ? { privateKeyPem: this.key.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string } : null;
  }

  restore(saved: { privateKeyPem?: string } | null | undefined): void {
    if (!saved?.privateKeyPem) return;
    const privateKey = createPrivateKey(saved.privateKeyPem);
    this.key = withKid(privateKey, createPublicKey(privateKey));
  }

  private signingKey(): { privateKey: KeyObject; publicKey: KeyObject; kid: string } {
    if (!this.key) {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      this.key = withKid(privateKey, publicKey);
    }
    return this.key;
  }
}

// The key id kube-apiserver uses: the SHA-256 of the public key's DER form.
function withKid(privateKey: KeyObject, publicKey: KeyObject): { privateKey: KeyObject; publicKey: KeyObject; kid: string } {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return { privateKey, publicKey, kid: createHash('sha256').update(der).digest('base64url') };
}

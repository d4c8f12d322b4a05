// Signatures that anchor the chain from outside the database. The chain head
// (written with every batch) and each retention checkpoint (written when old
// records are pruned) are signed with an Ed25519 key kept in a file, not in
// the database: someone who can edit rows but not read the key cannot rewrite
// a record and re-hash everything after it, and cannot invent a checkpoint
// that hides deleted records. Verifiers need only the public key.
import { createHash, createPrivateKey, randomBytes, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Errors, KubemendError } from '../common/index.ts';
import { canonicalJson } from './chain.ts';

export const KEY_FILE = 'audit-key.pem';

/** The private key path: $KUBEMEND_AUDIT_KEY (e.g. a mounted Secret), else <dataDir>/audit-key.pem. */
export function auditKeyPath(dataDir: string, explicit?: string): string {
  return explicit ?? (process.env.KUBEMEND_AUDIT_KEY || undefined) ?? join(dataDir, KEY_FILE);
}

/** $KUBEMEND_AUDIT_REQUIRE_KEY: 1/true/yes means the key is provided (a mounted Secret) and never generated. */
export function requireKeyFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(1|true|yes)$/i.test(env.KUBEMEND_AUDIT_REQUIRE_KEY ?? '');
}

/** The public half's file, written beside the private key for auditors. */
export function publicKeyPath(privatePath: string): string {
  return privatePath.replace(/(\.pem)?$/, '.pub.pem');
}

/** First 16 hex digits of sha256 over the SPKI DER: short, and names the key in every signature. */
export function keyId(pub: KeyObject): string {
  return createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

export interface Signature {
  keyId: string;
  /** base64 Ed25519 signature over the canonical JSON payload. */
  signature: string;
}

export interface HeadPayload {
  seq: number;
  hash: string;
}

export interface CheckpointPayload {
  seq: number;
  hash: string;
  time: number;
  removed: number;
}

/** What is signed: a typed, canonical document, so a head signature can never pass as a checkpoint's. */
export function headMessage(p: HeadPayload): string {
  return canonicalJson({ type: 'kubemend.audit.head', seq: p.seq, hash: p.hash });
}

export function checkpointMessage(p: CheckpointPayload): string {
  return canonicalJson({ type: 'kubemend.audit.checkpoint', seq: p.seq, hash: p.hash, time: p.time, removed: p.removed });
}

export type SignatureCheck = 'valid' | 'invalid' | 'untrusted';

export interface AuditKeysOptions {
  /** Private key file (default $KUBEMEND_AUDIT_KEY or <dataDir>/audit-key.pem); created on first signature. */
  keyFile: string;
  /** Extra public keys (PEM files) whose signatures verification accepts, e.g. another host's writer. */
  trusted?: string[];
  /**
   * The key must already exist (default $KUBEMEND_AUDIT_REQUIRE_KEY): a
   * missing key is KM-AUDIT-002 instead of a fresh one. A cluster install
   * mounts the key from a Secret; generating one beside the database when the
   * mount is missing would hand the signing power to whoever reads that volume.
   */
  requireKey?: boolean;
}

export class AuditKeys {
  readonly keyFile: string;
  readonly requireKey: boolean;
  private readonly trustedFiles: string[];
  private privateKey?: KeyObject;
  private privateKeyId?: string;
  private publicKeys?: Map<string, KeyObject>;

  constructor(opts: AuditKeysOptions) {
    this.keyFile = opts.keyFile;
    this.trustedFiles = opts.trusted ?? [];
    this.requireKey = opts.requireKey ?? requireKeyFromEnv();
  }

  sign(message: string): Signature {
    const key = this.signingKey();
    this.privateKeyId ??= keyId(createPublicKey(key));
    return { keyId: this.privateKeyId, signature: sign(null, Buffer.from(message, 'utf8'), key).toString('base64') };
  }

  check(message: string, sig: Signature): SignatureCheck {
    const pub = this.verifiers().get(sig.keyId);
    if (!pub) return 'untrusted';
    try {
      return verify(null, Buffer.from(message, 'utf8'), pub, Buffer.from(sig.signature, 'base64')) ? 'valid' : 'invalid';
    } catch {
      return 'invalid';
    }
  }

  /** Keys verification accepts: the local signing key (if any) and every --public-key file. */
  verifiers(): Map<string, KeyObject> {
    if (this.publicKeys) return this.publicKeys;
    const keys = new Map<string, KeyObject>();
    const add = (pub: KeyObject, file: string) => {
      if (pub.asymmetricKeyType !== 'ed25519') throw new KubemendError(Errors.AUDIT_KEY, `${file} is a ${pub.asymmetricKeyType} key; the audit log is signed with Ed25519`);
      keys.set(keyId(pub), pub);
    };
    if (existsSync(this.keyFile)) add(createPublicKey(this.loadPrivate()), this.keyFile);
    else if (existsSync(publicKeyPath(this.keyFile))) add(this.loadPublic(publicKeyPath(this.keyFile)), publicKeyPath(this.keyFile));
    for (const f of this.trustedFiles) add(this.loadPublic(f), f);
    this.publicKeys = keys;
    return keys;
  }

  /** The private key, generated on first use unless requireKey. Safe when several processes start at once. */
  signingKey(): KeyObject {
    if (this.privateKey) return this.privateKey;
    if (!existsSync(this.keyFile)) {
      if (this.requireKey) {
        throw new KubemendError(Errors.AUDIT_KEY, `there is no audit signing key at ${this.keyFile}, and the key must be provided (KUBEMEND_AUDIT_REQUIRE_KEY / store.requireAuditKey), not generated: mount the Secret holding it there, or point KUBEMEND_AUDIT_KEY at it`);
      }
      this.generate();
    }
    this.privateKey = this.loadPrivate();
    return this.privateKey;
  }

  private generate(): void {
    mkdirSync(dirname(this.keyFile), { recursive: true, mode: 0o700 });
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const tmp = `${this.keyFile}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      writeFileSync(tmp, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
      // link() fails if the name exists: of two processes generating at once, exactly one key wins and both use it.
      linkSync(tmp, this.keyFile);
      writeFileSync(publicKeyPath(this.keyFile), publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new KubemendError(Errors.AUDIT_KEY, `cannot create the audit signing key ${this.keyFile}: ${(err as Error).message}`, { cause: err });
      }
    } finally {
      try {
        unlinkSync(tmp);
      } catch {
        /* never written */
      }
    }
  }

  private loadPrivate(): KeyObject {
    let key: KeyObject;
    try {
      key = createPrivateKey(readFileSync(this.keyFile));
    } catch (err) {
      throw new KubemendError(Errors.AUDIT_KEY, `cannot read the audit signing key ${this.keyFile}: ${(err as Error).message}`, { cause: err });
    }
    if (key.asymmetricKeyType !== 'ed25519') throw new KubemendError(Errors.AUDIT_KEY, `${this.keyFile} is a ${key.asymmetricKeyType} key; the audit log is signed with Ed25519`);
    return key;
  }

  private loadPublic(file: string): KeyObject {
    try {
      return createPublicKey(readFileSync(file));
    } catch (err) {
      throw new KubemendError(Errors.AUDIT_KEY, `cannot read the audit public key ${file}: ${(err as Error).message}`, { cause: err });
    }
  }
}

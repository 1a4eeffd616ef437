import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";

/**
 * Webhook signing secrets. Format (Standard Webhooks): `whsec_` + base64 of 32 random bytes.
 * At rest, with a key (`WEBHOOK_SECRET_KEY`), a secret is stored as
 * `enc:v1:<base64 iv>.<base64 ciphertext>.<base64 tag>` (AES-256-GCM, key = HKDF-SHA256 of the
 * configured key); without one as `raw:<secret>`. Stored forms of both kinds stay readable
 * while a key is configured, so setting one later needs no migration (rotate to encrypt).
 */

const SECRET_PREFIX = "whsec_";
const HKDF_INFO = "slotwise webhook endpoint secret v1";

/** A fresh `whsec_...` secret (256 bits). */
export function generateWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString("base64");
}

function aesKey(key: string): Buffer {
  return Buffer.from(hkdfSync("sha256", key, "", HKDF_INFO, 32));
}

/** The stored form of `secret` (see the module comment). */
export function sealWebhookSecret(secret: string, key: string | undefined): string {
  if (!key) return `raw:${secret}`;
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", aesKey(key), iv);
  const ciphertext = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
  return `enc:v1:${iv.toString("base64")}.${ciphertext.toString("base64")}.${cipher.getAuthTag().toString("base64")}`;
}

/** Thrown when a stored secret cannot be read (encrypted under another key, or no key configured). */
export class WebhookSecretUnreadableError extends Error {
  override name = "WebhookSecretUnreadableError";
}

/**
 * The secret behind a stored form.
 * @throws WebhookSecretUnreadableError when it was encrypted and `key` is missing or another one
 */
export function openWebhookSecret(stored: string, key: string | undefined): string {
  if (stored.startsWith("raw:")) return stored.slice(4);
  const m = /^enc:v1:([^.]+)\.([^.]+)\.([^.]+)$/.exec(stored);
  if (!m) throw new WebhookSecretUnreadableError("unknown stored secret format");
  if (!key) throw new WebhookSecretUnreadableError("the secret is encrypted but WEBHOOK_SECRET_KEY is not set");
  try {
    const decipher = createDecipheriv("aes-256-gcm", aesKey(key), Buffer.from(m[1]!, "base64"));
    decipher.setAuthTag(Buffer.from(m[3]!, "base64"));
    return Buffer.concat([decipher.update(Buffer.from(m[2]!, "base64")), decipher.final()]).toString("utf8");
  } catch {
    throw new WebhookSecretUnreadableError("the secret was encrypted under another WEBHOOK_SECRET_KEY");
  }
}

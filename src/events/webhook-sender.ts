import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { Webhook } from "standardwebhooks";
import { RESPONSE_EXCERPT_CHARS, addressRefusal, type AddressPolicy } from "../domain/webhooks";

/** One signed webhook request. */
export interface WebhookRequest {
  url: string;
  /** `whsec_...` */
  secret: string;
  /** Sent as `webhook-id`: the event id, the receiver's dedup key. */
  eventId: string;
  /** The JSON envelope, exactly as signed. */
  body: string;
}

/** What one attempt gave. */
export interface WebhookAttemptResult {
  /** A 2xx answer. */
  ok: boolean;
  /** HTTP status, when the receiver answered. */
  status: number | null;
  /** Why it failed (network error, timeout, refused address, or the status and the body's start). */
  error: string | null;
}

export interface WebhookSendOptions {
  /** Whole request, connect to last body byte, in ms. */
  timeoutMs: number;
  policy: AddressPolicy;
  /** Signing instant (`webhook-timestamp`, Unix seconds). */
  now: Date;
}

/** Thrown by the lookup hook (and for literal addresses) when the receiver's address is refused. */
export class WebhookAddressRefusedError extends Error {
  override name = "WebhookAddressRefusedError";
}

/**
 * A `net.connect` lookup that refuses addresses the policy forbids. It runs for every connection,
 * at connect time, so a host that resolved to a public address when the endpoint was saved and to
 * a private one now (DNS rebinding) is refused.
 */
export function filteringLookup(policy: AddressPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, "", 0);
      for (const a of addresses) {
        const refusal = addressRefusal(a.address, policy);
        if (refusal) return callback(new WebhookAddressRefusedError(`${hostname}: ${refusal}`), "", 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0]!;
      callback(null, first.address, first.family);
    });
  };
}

/** The host of a URL as an IP literal (IPv6 brackets removed), or undefined for a name. */
export function literalAddress(url: URL): string | undefined {
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  return isIP(host) !== 0 ? host : undefined;
}

/**
 * POSTs one event as a Standard Webhooks request (https://www.standardwebhooks.com/, headers
 * `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>` signed with the
 * `standardwebhooks` package). Redirects are not followed (a 3xx is a failure); only the first
 * {@link RESPONSE_EXCERPT_CHARS} characters of a body are kept. Never throws.
 */
export async function sendWebhook(req: WebhookRequest, opts: WebhookSendOptions): Promise<WebhookAttemptResult> {
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    return { ok: false, status: null, error: "invalid URL" };
  }
  const literal = literalAddress(url);
  const refusal = literal ? addressRefusal(literal, opts.policy) : null;
  if (refusal) return { ok: false, status: null, error: `refused: ${refusal}` };
  let signature: string;
  try {
    signature = new Webhook(req.secret).sign(req.eventId, opts.now, req.body);
  } catch (err) {
    return { ok: false, status: null, error: `cannot sign: ${(err as Error).message}` };
  }
  const headers = {
    "content-type": "application/json",
    "user-agent": "Slotwise-Webhooks/1",
    "webhook-id": req.eventId,
    "webhook-timestamp": String(Math.floor(opts.now.getTime() / 1000)),
    "webhook-signature": signature,
  };
  return new Promise<WebhookAttemptResult>((resolve) => {
    let settled = false;
    const finish = (r: WebhookAttemptResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      resolve(r);
    };
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    // agent: false, a fresh connection each time: every attempt resolves and checks the address anew.
    const request = send(url, { method: "POST", headers, agent: false, lookup: filteringLookup(opts.policy) }, (res) => {
      readExcerpt(res, (excerpt) => finish(outcome(res, excerpt)));
    });
    const timer = setTimeout(() => finish({ ok: false, status: null, error: `timed out after ${opts.timeoutMs} ms` }), opts.timeoutMs);
    request.on("error", (err) => finish({ ok: false, status: null, error: err instanceof WebhookAddressRefusedError ? `refused: ${err.message}` : `${err.name}: ${err.message}` }));
    request.end(req.body);
  });
}

function outcome(res: IncomingMessage, excerpt: string): WebhookAttemptResult {
  const status = res.statusCode ?? 0;
  if (status >= 200 && status < 300) return { ok: true, status, error: null };
  const location = status >= 300 && status < 400 && res.headers.location ? ` (redirect to ${res.headers.location} not followed)` : "";
  return { ok: false, status, error: `HTTP ${status}${location}${excerpt ? `: ${excerpt}` : ""}` };
}

/** Reads at most RESPONSE_EXCERPT_CHARS characters of a body, then stops reading. */
function readExcerpt(res: IncomingMessage, done: (excerpt: string) => void): void {
  let text = "";
  res.setEncoding("utf8");
  res.on("data", (chunk: string) => {
    text += chunk;
    if (text.length >= RESPONSE_EXCERPT_CHARS) {
      done(text.slice(0, RESPONSE_EXCERPT_CHARS));
      res.destroy();
    }
  });
  res.on("end", () => done(text));
  res.on("error", () => done(text));
}

/**
 * Why a receiver at `url` is refused by address (a literal, or every address its name resolves to
 * now), or null when it may receive. A name that does not resolve is refused.
 */
export async function receiverAddressRefusal(url: URL, policy: AddressPolicy): Promise<string | null> {
  const literal = literalAddress(url);
  if (literal) return addressRefusal(literal, policy);
  let addresses: LookupAddress[];
  try {
    addresses = await lookupAll(url.hostname);
  } catch {
    return `${url.hostname} does not resolve`;
  }
  for (const a of addresses) {
    const refusal = addressRefusal(a.address, policy);
    if (refusal) return `${url.hostname} resolves to ${refusal}`;
  }
  return addresses.length === 0 ? `${url.hostname} does not resolve` : null;
}

function lookupAll(hostname: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => dnsLookup(hostname, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))));
}

import type { AddressInfo } from "node:net";
import { simpleParser, type ParsedMail } from "mailparser";
import { SMTPServer } from "smtp-server";

/** A message the sink accepted, parsed with mailparser, and the envelope recipients. */
export interface ReceivedMail {
  rcptTo: string[];
  parsed: ParsedMail;
}

/**
 * A real SMTP server (smtp-server) on 127.0.0.1 and a free port, keeping what it accepts.
 * `refuseFirst` makes it refuse the first n connections (`421`, "service not available"), as a
 * mail server that is down for a while would.
 */
export interface SmtpSink {
  url: string;
  received: ReceivedMail[];
  /** Connections it refused so far. */
  refused(): number;
  close(): Promise<void>;
}

/** @param opts.port - where to listen on 127.0.0.1; default 0, a free port */
/** @param opts.refuseRecipient - addresses answered `550` (mailbox unavailable) at RCPT TO */
export async function startSmtpSink(opts: { refuseFirst?: number; port?: number; refuseRecipient?: (address: string) => boolean } = {}): Promise<SmtpSink> {
  const received: ReceivedMail[] = [];
  let refused = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onConnect(_session, cb) {
      if (refused < (opts.refuseFirst ?? 0)) {
        refused++;
        const err = Object.assign(new Error("service not available, try again later"), { responseCode: 421 });
        return cb(err);
      }
      cb();
    },
    onRcptTo(address, _session, cb) {
      if (opts.refuseRecipient?.(address.address)) return cb(Object.assign(new Error("mailbox unavailable"), { responseCode: 550 }));
      cb();
    },
    onData(stream, session, cb) {
      simpleParser(stream)
        .then((parsed) => {
          received.push({ rcptTo: session.envelope.rcptTo.map((r) => r.address), parsed });
          cb();
        })
        .catch((err: Error) => cb(err));
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    refused: () => refused,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

import type { Logger } from "pino";
import { ALL_SESSIONS, type LivePubSub, type SessionRevocationMessage } from "../events/pubsub";

/** graphql-ws close code for a refused, expired or revoked token (graphql-ws `CloseCode.Forbidden`). */
export const WS_FORBIDDEN = 4403;

/** What the registry needs of a socket: a way to close it. */
export interface ClosableSocket {
  close(code: number, reason: string): void;
}

/**
 * The open graphql-ws sockets of this instance by the session and the account that authenticated
 * them, so a revocation closes them at once. Revocations arrive over the pub/sub
 * (`SESSION_REVOCATIONS`, through Redis when configured), so a logout on any instance reaches
 * sockets on every instance.
 */
export class WsSessionRegistry {
  private readonly bySession = new Map<string, Set<ClosableSocket>>();
  private readonly byUser = new Map<string, Set<ClosableSocket>>();
  private following?: AsyncIterableIterator<SessionRevocationMessage>;

  constructor(private readonly log: Logger) {}

  /**
   * Listens for revocations on `pubSub` until {@link stop}. Subscribes at once; with Redis the
   * SUBSCRIBE completes shortly after.
   */
  follow(pubSub: LivePubSub): void {
    const messages = pubSub.subscribeTopic("SESSION_REVOCATIONS", ALL_SESSIONS);
    this.following = messages;
    void (async () => {
      try {
        for await (const message of messages) this.revoke(message);
      } catch (err) {
        this.log.error({ err }, "session revocation listener stopped");
      }
    })();
  }

  /** Tracks `socket` as authenticated by `sessionId` of `userId`. @returns a function that forgets it */
  register(socket: ClosableSocket, sessionId: string, userId: string): () => void {
    add(this.bySession, sessionId, socket);
    add(this.byUser, userId, socket);
    return () => {
      remove(this.bySession, sessionId, socket);
      remove(this.byUser, userId, socket);
    };
  }

  /** Closes (4403) every socket of the revoked sessions and accounts that this instance holds. */
  revoke(message: SessionRevocationMessage): void {
    const doomed = new Set<ClosableSocket>();
    for (const id of message.sessionIds ?? []) for (const s of this.bySession.get(id) ?? []) doomed.add(s);
    for (const id of message.userIds ?? []) for (const s of this.byUser.get(id) ?? []) doomed.add(s);
    for (const socket of doomed) socket.close(WS_FORBIDDEN, "Forbidden: the session has ended");
  }

  async stop(): Promise<void> {
    await this.following?.return?.();
  }
}

function add<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(value);
}

function remove<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}

/**
 * Open sockets per client address, for the per-address cap. `tryOpen` and the matching
 * `close` must pair up: count on accept, uncount on the socket's close.
 */
export class ConnectionCounter {
  private readonly open = new Map<string, number>();

  constructor(private readonly max: number) {}

  /** @returns false (nothing counted) when `address` already holds `max` sockets */
  tryOpen(address: string): boolean {
    const n = this.open.get(address) ?? 0;
    if (n >= this.max) return false;
    this.open.set(address, n + 1);
    return true;
  }

  close(address: string): void {
    const n = (this.open.get(address) ?? 0) - 1;
    if (n <= 0) this.open.delete(address);
    else this.open.set(address, n);
  }
}

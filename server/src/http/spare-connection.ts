// A keep-alive pool that opens the next connection before it is needed. Chats stream for a long time,
// so while traffic grows every new chat finds each pooled connection busy and opens its own: a TCP and
// TLS handshake to the upstream's region (hundreds of ms from another continent) before its first
// token. Here, whenever a request has to open a connection, one more is opened right after it; the
// next such request takes that one, already connected, and opens the next. Only `createConnection`,
// the Agent's documented hook for custom connections, is overridden.
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { IDLE_CONNECTION_MS } from './connections.js';

/** Connections a pool opened ahead of their first request. */
const openedAhead = new WeakSet<Duplex>();

/**
 * True when `socket` was opened before its request was sent. Like a reused connection, the server may
 * have closed it while it waited: a request that breaks on it before any answer may be sent again.
 */
export const wasOpenedAhead = (socket: Duplex | null | undefined): boolean => socket != null && openedAhead.has(socket);

interface Spare {
  socket: Duplex;
  name: string;
  dropIfIdle: () => void;
}

/**
 * An `http.Agent` (an `https.Agent` for `https:`) that keeps one connection ready for the next request
 * that finds the pool busy. An unused spare closes after `IDLE_CONNECTION_MS` (or the pool's `timeout`),
 * like an idle pooled connection, and no new one is opened until a request opens a connection again.
 */
export function poolWithSpare(protocol: string, options: https.AgentOptions): http.Agent {
  const Base: typeof http.Agent = protocol === 'https:' ? https.Agent : http.Agent;

  class SparePool extends Base {
    #spare: Spare | null = null;
    #destroyed = false;

    override createConnection(
      options: http.ClientRequestArgs,
      callback?: (err: Error | null, stream: Duplex) => void,
    ): Duplex | null | undefined {
      const name = this.getName(options);
      const spare = this.#takeSpare(name);
      // After this request is on its way: the next one that needs a connection finds it open.
      setImmediate(() => this.#openSpare(options, name));
      return spare ?? super.createConnection(options, callback);
    }

    override destroy(): void {
      this.#destroyed = true;
      this.#spare?.socket.destroy();
      this.#spare = null;
      super.destroy();
    }

    #takeSpare(name: string): Duplex | null {
      const spare = this.#spare;
      this.#spare = null;
      if (!spare) return null;
      if (spare.name !== name || spare.socket.destroyed) {
        spare.socket.destroy();
        return null;
      }
      spare.socket.off('close', spare.dropIfIdle).off('timeout', spare.dropIfIdle).off('error', ignore);
      (spare.socket as { ref?: () => void }).ref?.(); // it now holds a request, as a new connection would
      return spare.socket;
    }

    #openSpare(options: http.ClientRequestArgs, name: string): void {
      if (this.#spare || this.#destroyed) return;
      const socket = super.createConnection({ ...options, timeout: options.timeout ?? IDLE_CONNECTION_MS });
      if (!socket) return;
      const spare: Spare = {
        socket,
        name,
        // Closed by the server, unreachable, or unused for the idle time: gone, and not replaced.
        dropIfIdle: () => {
          if (this.#spare === spare) this.#spare = null;
          socket.destroy();
        },
      };
      openedAhead.add(socket);
      (socket as { unref?: () => void }).unref?.(); // a waiting spare keeps no process alive
      socket.on('error', ignore).once('close', spare.dropIfIdle).once('timeout', spare.dropIfIdle);
      this.#spare = spare;
    }
  }

  return new SparePool(options);
}

/** A spare's error closes it; nothing waits on it yet. */
function ignore(): void {}

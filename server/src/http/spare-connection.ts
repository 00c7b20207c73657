// A keep-alive pool that opens the next connections before they are needed. Chats stream for a long
// time, so while traffic grows every new chat finds each pooled connection busy and opens its own: a
// TCP and TLS handshake to the upstream's region (hundreds of ms from another continent) before its
// first token. Here, whenever a request has to open a connection, the pool tops up a few connections
// opened ahead; the next such requests take those, already connected. A few, not one: under load
// chats arrive in bunches (everything that came in during one pause of the event loop is handled
// together), and every chat of a bunch past the ready ones waited for a handshake of its own. Only
// `createConnection`, the Agent's documented hook for custom connections, is overridden.
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
 * An `http.Agent` (an `https.Agent` for `https:`) that keeps `spares` connections ready for the next
 * requests that find the pool busy, the oldest taken first. An unused spare closes after
 * `IDLE_CONNECTION_MS` (or the pool's `timeout`), like an idle pooled connection, and none is opened
 * again until a request opens a connection.
 */
export function poolWithSpares(protocol: string, options: https.AgentOptions, spares: number): http.Agent {
  const Base: typeof http.Agent = protocol === 'https:' ? https.Agent : http.Agent;

  class SparePool extends Base {
    #spares: Spare[] = [];
    #destroyed = false;

    override createConnection(
      options: http.ClientRequestArgs,
      callback?: (err: Error | null, stream: Duplex) => void,
    ): Duplex | null | undefined {
      const name = this.getName(options);
      const spare = this.#takeSpare(name);
      // After this request is on its way: the next ones that need a connection find them open.
      setImmediate(() => this.#topUp(options, name));
      return spare ?? super.createConnection(options, callback);
    }

    override destroy(): void {
      this.#destroyed = true;
      for (const spare of this.#spares) spare.socket.destroy();
      this.#spares = [];
      super.destroy();
    }

    #takeSpare(name: string): Duplex | null {
      for (let spare = this.#spares.shift(); spare; spare = this.#spares.shift()) {
        if (spare.name !== name || spare.socket.destroyed) {
          spare.socket.destroy();
          continue;
        }
        spare.socket.off('close', spare.dropIfIdle).off('timeout', spare.dropIfIdle).off('error', ignore);
        (spare.socket as { ref?: () => void }).ref?.(); // it now holds a request, as a new connection would
        return spare.socket;
      }
      return null;
    }

    #topUp(options: http.ClientRequestArgs, name: string): void {
      while (this.#spares.length < spares && !this.#destroyed) {
        const socket = super.createConnection({ ...options, timeout: options.timeout ?? IDLE_CONNECTION_MS });
        if (!socket) return;
        const spare: Spare = {
          socket,
          name,
          // Closed by the server, unreachable, or unused for the idle time: gone, and not replaced.
          dropIfIdle: () => {
            this.#spares = this.#spares.filter((waiting) => waiting !== spare);
            socket.destroy();
          },
        };
        openedAhead.add(socket);
        (socket as { unref?: () => void }).unref?.(); // a waiting spare keeps no process alive
        socket.on('error', ignore).once('close', spare.dropIfIdle).once('timeout', spare.dropIfIdle);
        this.#spares.push(spare);
      }
    }
  }

  return new SparePool(options);
}

/** A spare's error closes it; nothing waits on it yet. */
function ignore(): void {}

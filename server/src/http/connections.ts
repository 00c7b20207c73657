/**
 * How long a connection to an upstream (Coze, the model endpoint) may wait, idle, for the next chat.
 * Node's defaults drop idle connections after 4-5 s (fetch, node:http): past that, every chat on a
 * quiet instance opened a new one, a TCP and TLS handshake to the upstream's region before its first
 * token. Kept under the usual idle time-outs of load balancers and NATs on the way (60 s and up); a
 * server's own `Keep-Alive: timeout=` hint, when shorter, wins.
 */
export const IDLE_CONNECTION_MS = 30_000;

// Which pg failures mean "the connection is gone" rather than "the statement
// was wrong". Only the first kind is worth another attempt on a new
// connection; a constraint violation or a syntax error would fail again.

/** SQLSTATEs of a session ended by the server: admin_shutdown, crash_shutdown, cannot_connect_now. */
const SERVER_ENDED = new Set(['57P01', '57P02', '57P03']);
const SOCKET_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTCONN', 'EAI_AGAIN']);
/** pg's own messages for a socket that closed or a client that already saw its connection fail. */
const CLIENT_MESSAGES = /^(Connection terminated|Client has encountered a connection error and is not queryable|Client was closed and is not queryable)/;

export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    // Class 08: connection exceptions.
    if (SERVER_ENDED.has(code) || code.startsWith('08') || SOCKET_CODES.has(code)) return true;
  }
  return CLIENT_MESSAGES.test(err.message);
}

/** What a failed request says about trying again (a redirect, to another region, will not change). */
export function retryable(err: unknown): boolean {
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
  if (e.name === 'CredentialsProviderError' || e.name === 'AbortError') return false;
  const status = e.$metadata?.httpStatusCode;
  // A status from the server: only throttling, timeouts and its own failures are worth another try.
  if (status !== undefined && status >= 300 && status < 500) return status === 429 || e.name === 'RequestTimeout' || e.name === 'SlowDown';
  // 5xx, a connection cut or refused, a timeout, a truncated answer that could not be parsed.
  return true;
}

/**
 * Runs a request again after a throttle, a timeout, a 5xx or a cut
 * connection, with exponential backoff and full jitter (AWS's advice),
 * `tries` times in all. The request is made anew each time, so a body read
 * from a file is read again.
 */
export async function withRetry<T>(tries: number, attempt: () => Promise<T>, sleep = defaultSleep): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (n >= tries || !retryable(err)) throw err;
      await sleep(Math.random() * Math.min(5000, 100 * 2 ** n));
    }
  }
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** One line for a failed request: the server's error code and message, or the network's. */
export function describeS3Error(err: unknown): string {
  const e = err as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  const name = e.code ?? e.name ?? 'Error';
  const msg = (e.message ?? String(err)).split('\n')[0];
  return `${name}${status !== undefined ? ` (HTTP ${status})` : ''}: ${msg}`;
}

import net from 'node:net';

/** The only interface emulators are bound to. */
export const LOOPBACK = '127.0.0.1';

/** Ports handed out by this process recently: never hand the same one to two emulators at once. */
const handedOut = new Set<number>();

function listenOnce(host: string, port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => resolve(server));
  });
}

function close(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * `count` distinct free TCP ports on `host`, found by listening on port 0. The sockets are closed
 * before returning, so another process may still take a port before the emulator binds it: the
 * supervisor detects that (the emulator exits with "address already in use") and retries.
 */
export async function freePorts(count: number, host: string = LOOPBACK): Promise<number[]> {
  const servers: net.Server[] = [];
  const ports: number[] = [];
  try {
    while (ports.length < count) {
      const server = await listenOnce(host, 0);
      servers.push(server);
      const { port } = server.address() as net.AddressInfo;
      if (handedOut.has(port)) continue; // keep it open so the next listen gets another one
      ports.push(port);
    }
  } finally {
    await Promise.all(servers.map(close));
  }
  for (const port of ports) {
    handedOut.add(port);
    // Forget it after a while: by then the emulator holds it or has failed.
    setTimeout(() => handedOut.delete(port), 60_000).unref();
  }
  return ports;
}

/** True when nothing listens on host:port (we can bind it ourselves). */
export async function isPortFree(port: number, host: string = LOOPBACK): Promise<boolean> {
  try {
    await close(await listenOnce(host, port));
    return true;
  } catch {
    return false;
  }
}

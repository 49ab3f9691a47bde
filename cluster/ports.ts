/**
 * Ports for the Temporal services. Temporal keeps each service's membership port in Postgres as a SMALLINT
 * (`cluster_membership.rpc_port`), so a port from the OS's ephemeral range (32768 and up, what `findFreePort` gets)
 * makes every service die at start ("value out of range for type smallint"). These come from below that range.
 */
import net from 'node:net';

const LOW = 20_000;
const HIGH = 32_767;
const taken = new Set<number>();

/**
 * A port in [20000, 32767] that nothing listens on and that this process has not handed out before. Released before
 * returning, so a race with another program is possible but rare.
 *
 * @throws Error when 200 random tries all find the port busy.
 */
export async function findFreeLowPort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW + 1));
    if (taken.has(port)) continue;
    if (await canListen(port)) {
      taken.add(port);
      return port;
    }
  }
  throw new Error(`no free port in ${LOW}-${HIGH}`);
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

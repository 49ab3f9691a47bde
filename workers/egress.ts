import { EgressGuard, formatAllowEntry, parseEgressAllowList } from '../activities/sdk';
import { type Config, ConfigError } from '../infra/config';

/**
 * The egress guard of a processor worker process: internal destinations refused except those in `EGRESS_ALLOW`,
 * answers read up to `HTTP_REQUEST_MAX_BYTES`. One per process; every processor it hosts shares it.
 *
 * @throws ConfigError naming the EGRESS_ALLOW entry that is not a host, host:port or CIDR.
 */
export function egressGuardFromConfig(
  config: Pick<Config, 'EGRESS_ALLOW' | 'HTTP_REQUEST_MAX_BYTES'>,
): EgressGuard {
  let allow;
  try {
    allow = parseEgressAllowList(config.EGRESS_ALLOW);
  } catch (error) {
    throw new ConfigError(`Invalid configuration:\n  EGRESS_ALLOW: ${(error as Error).message}`);
  }
  return new EgressGuard({ allow, maxResponseBytes: config.HTTP_REQUEST_MAX_BYTES });
}

/** One line for a banner or a startup log: `internal destinations blocked; allowed: 127.0.0.1:9000, 10.1.0.0/16`. */
export function describeEgressPolicy(guard: EgressGuard): string {
  const allowed = guard.allow.map(formatAllowEntry);
  return `internal destinations blocked; ${allowed.length === 0 ? 'none allowed' : `allowed: ${allowed.join(', ')}`}`;
}

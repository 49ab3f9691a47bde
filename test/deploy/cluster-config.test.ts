/**
 * docker-compose.yml's Temporal cluster and `npm run test:cluster` run the same configuration
 * (cluster/temporal/production.yaml): the same services, ports and environment. This keeps the three in step — a
 * service, port or variable added to one and not the others fails here.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import {
  APP_ENV_LEFT_UNSET,
  APP_ENV_LOCAL_ONLY,
  APP_ROLES,
  APP_SCRIPTS,
  appEnvironment,
  COMPOSE_SERVICE_OF,
  roleEnvironment,
} from '../../cluster/stack';
import { PROJECT_ROOT } from '../../infra/config';
import {
  DEFAULT_TEMPORAL_PORTS,
  TEMPORAL_CONFIG_DIR,
  TEMPORAL_CONFIG_ENV,
  TEMPORAL_DATABASES,
  TEMPORAL_SERVER_VERSION,
  TEMPORAL_SERVICES,
  temporalServiceArgs,
  temporalServiceEnvironment,
} from '../../infra/temporal-server';

const read = (file: string) => readFileSync(path.join(PROJECT_ROOT, file), 'utf8');
const compose = YAML.parse(read('docker-compose.yml'), { merge: true });
const services: Record<string, any> = compose.services;
const templateFile = path.join(TEMPORAL_CONFIG_DIR, `${TEMPORAL_CONFIG_ENV}.yaml`);
const template = readFileSync(templateFile, 'utf8');

/** Every `env "NAME"` the template reads, with its `| default "…"` when it has one. */
function templateVariables(text: string): Map<string, string | undefined> {
  const variables = new Map<string, string | undefined>();
  for (const match of text.matchAll(/env "([A-Z0-9_]+)"(?:\s*\|\s*default "([^"]*)")?/g)) {
    const [, name, fallback] = match;
    if (!variables.has(name!) || fallback !== undefined) variables.set(name!, fallback);
  }
  // `with env "NAME"`: an optional setting (unset: off).
  for (const match of text.matchAll(/with env "([A-Z0-9_]+)"/g)) variables.set(match[1]!, '');
  // `range list "A" "B"` … `env .`: the required ones, checked at the top of the file.
  for (const match of text.matchAll(/range list((?: "[A-Z0-9_]+")+)/g))
    for (const name of match[1]!.match(/[A-Z0-9_]+/g) ?? [])
      if (!variables.has(name)) variables.set(name, undefined);
  return variables;
}
const variables = templateVariables(template);

const composeTemporal = (service: string) => {
  const definition = services[`temporal-${service}`];
  assert.ok(definition, `compose has a temporal-${service} service`);
  return definition;
};
/** A compose service's command line after `exec`, as words. */
const serverArgs = (service: string): string[] => {
  const entrypoint: string[] = composeTemporal(service).entrypoint;
  const script = entrypoint.at(-1)!;
  const command = /exec temporal-server (.*)$/.exec(script)?.[1];
  assert.ok(command, `temporal-${service} execs temporal-server: ${script}`);
  return command.trim().split(/\s+/);
};
const settings = {
  ports: DEFAULT_TEMPORAL_PORTS,
  host: '127.0.0.1',
  postgres: { host: '127.0.0.1', port: 5432, user: 'u', password: 'p' },
  dynamicConfigFile: '/x/dynamicconfig.yaml',
};

describe('the production-shape Temporal cluster: compose, its configuration and test:cluster', () => {
  it('the configuration reads its settings from the environment; only the credentials have no default', () => {
    assert.ok(template.slice(0, 1024).includes('enable-template'), 'the server renders it as a template');
    const required = [...variables].filter(([, fallback]) => fallback === undefined).map(([name]) => name);
    assert.deepEqual(required.sort(), ['POSTGRES_PWD', 'POSTGRES_USER']);
    assert.match(
      template,
      /range list "POSTGRES_USER" "POSTGRES_PWD" \}\}\{\{ if not \(env \.\) \}\}\{\{ fail/,
    );
  });

  it('compose runs each of the four services as its own temporal-<service> from the mounted configuration', () => {
    const temporalServices = Object.keys(services).filter((name) =>
      String(services[name].image ?? '').startsWith('temporalio/server:'),
    );
    assert.deepEqual(
      temporalServices.sort(),
      TEMPORAL_SERVICES.map((service) => `temporal-${service}`).sort(),
    );
    for (const service of TEMPORAL_SERVICES) {
      const definition = composeTemporal(service);
      assert.equal(definition.image, `temporalio/server:${TEMPORAL_SERVER_VERSION}`);
      const mount = (definition.volumes as string[]).find((volume) =>
        volume.startsWith('./cluster/temporal:'),
      );
      assert.ok(mount, `temporal-${service} mounts ./cluster/temporal`);
      const [source, target, mode] = mount.split(':');
      assert.equal(path.resolve(PROJECT_ROOT, source!), TEMPORAL_CONFIG_DIR);
      assert.equal(mode, 'ro');
      // The same command line as test:cluster's, but for where the configuration is.
      assert.deepEqual(serverArgs(service), temporalServiceArgs(service, target));
      assert.match(definition.entrypoint.at(-1), /^TEMPORAL_BROADCAST_ADDRESS=\$\$\(hostname -i\) exec /);
      const dynamic: string = definition.environment.DYNAMIC_CONFIG_FILE_PATH;
      assert.ok(dynamic.startsWith(`${target}/`), `${dynamic} is in the mount`);
      assert.ok(existsSync(path.join(TEMPORAL_CONFIG_DIR, dynamic.slice(target!.length + 1))));
    }
    // History starts first on an empty database (cluster metadata); test:cluster does the same.
    for (const service of ['frontend', 'matching', 'worker'])
      assert.ok(
        composeTemporal(service).depends_on['temporal-history'],
        `temporal-${service} waits for history`,
      );
  });

  it('each service listens on the ports the configuration defaults to, which compose exposes and the apps dial', () => {
    for (const service of TEMPORAL_SERVICES) {
      const upper = service.toUpperCase();
      const { grpc, membership } = DEFAULT_TEMPORAL_PORTS[service];
      assert.equal(variables.get(`${upper}_GRPC_PORT`), String(grpc), `${service} gRPC port`);
      assert.equal(
        variables.get(`${upper}_MEMBERSHIP_PORT`),
        String(membership),
        `${service} membership port`,
      );
      // Temporal keeps membership ports in a SMALLINT column.
      assert.ok(membership < 32_768);
      const definition = composeTemporal(service);
      const published = ((definition.ports ?? []) as string[]).map((port) => port.split(':').at(-1));
      const open = [...((definition.expose ?? []) as string[]), ...published].map(Number).sort();
      const expected = [
        grpc,
        membership,
        ...(service === 'frontend' ? [DEFAULT_TEMPORAL_PORTS.frontendHttp] : []),
      ];
      assert.deepEqual(open, expected.sort(), `temporal-${service} opens its ports`);
    }
    assert.equal(variables.get('FRONTEND_HTTP_PORT'), String(DEFAULT_TEMPORAL_PORTS.frontendHttp));
    const frontend = `temporal-frontend:${DEFAULT_TEMPORAL_PORTS.frontend.grpc}`;
    assert.equal(variables.get('PUBLIC_FRONTEND_ADDRESS'), frontend);
    assert.equal(composeTemporal('worker').environment.PUBLIC_FRONTEND_ADDRESS, frontend);
    for (const name of ['api', 'orchestrator', 'transform', 'temporal-ui', 'temporal-namespace'])
      assert.equal(services[name].environment.TEMPORAL_ADDRESS, frontend, `${name} dials the frontend`);
  });

  it('compose sets only variables the configuration reads, and test:cluster sets every one compose sets', () => {
    const local = Object.keys(temporalServiceEnvironment(settings));
    for (const service of TEMPORAL_SERVICES) {
      const composed = Object.keys(composeTemporal(service).environment);
      for (const name of composed)
        assert.ok(variables.has(name), `compose sets ${name}, which the config never reads`);
      for (const [name, fallback] of variables)
        if (fallback === undefined) assert.ok(composed.includes(name), `compose must set ${name}`);
      // TEMPORAL_BROADCAST_ADDRESS comes from the entrypoint (the container's address); one host needs none.
      for (const name of composed) assert.ok(local.includes(name), `test:cluster does not set ${name}`);
    }
    for (const name of local)
      assert.ok(variables.has(name), `test:cluster sets ${name}, which the config never reads`);
  });

  it('the schema job makes the databases the configuration names, at the schemas test:cluster uses', () => {
    const job = services['temporal-schema'];
    assert.equal(job.image, `temporalio/admin-tools:${TEMPORAL_SERVER_VERSION}`);
    assert.equal(services['temporal-namespace'].image, job.image);
    const script: string = job.command.join('\n');
    assert.deepEqual(
      TEMPORAL_DATABASES.map(({ database }) => database),
      [variables.get('DBNAME'), variables.get('VISIBILITY_DBNAME')],
    );
    for (const { schema } of TEMPORAL_DATABASES)
      assert.ok(schema.startsWith('postgresql/v12/') && script.includes(schema.split('/').at(-1)!));
    for (const step of [
      'create-database',
      'setup-schema -v 0.0',
      'update-schema --schema-name postgresql/v12/$$schema',
    ])
      assert.ok(script.includes(step), `the schema job runs ${step}`);
    assert.equal(job.environment.SQL_PLUGIN, 'postgres12');
    assert.match(template, /pluginName: postgres12/);
    const postgres = services.postgres.environment;
    assert.deepEqual(
      [job.environment.SQL_USER, job.environment.SQL_PASSWORD],
      [postgres.POSTGRES_USER, postgres.POSTGRES_PASSWORD],
    );
    for (const service of TEMPORAL_SERVICES) {
      const env = composeTemporal(service).environment;
      assert.deepEqual(
        [env.POSTGRES_USER, env.POSTGRES_PWD],
        [postgres.POSTGRES_USER, postgres.POSTGRES_PASSWORD],
      );
      assert.equal(
        `${env.POSTGRES_SEEDS}:${env.DB_PORT}`,
        `${job.environment.SQL_HOST}:${job.environment.SQL_PORT}`,
      );
    }
  });

  it('test:cluster runs each app role as its compose service does, with the environment compose gives it', () => {
    const appSettings = { databaseUrl: 'postgresql://x', temporalAddress: 'x:1', payloadKeys: 'k' };
    const shared = Object.keys(appEnvironment(appSettings));
    const composeShared = Object.keys(compose['x-app'].environment);
    assert.deepEqual(
      composeShared.filter((name) => !shared.includes(name)).sort(),
      Object.keys(APP_ENV_LEFT_UNSET).sort(),
      'compose app settings test:cluster leaves unset',
    );
    for (const role of APP_ROLES) {
      const service = services[COMPOSE_SERVICE_OF[role]];
      const composed = Object.keys(service.environment);
      const local = Object.keys(
        roleEnvironment(role, { ...appSettings, apiPort: 1, metricsPort: 2, adminKey: 'a' }),
      );
      for (const name of local)
        assert.ok(
          composed.includes(name) || name in APP_ENV_LOCAL_ONLY,
          `${role} gets ${name}, which compose's ${COMPOSE_SERVICE_OF[role]} does not`,
        );
      for (const name of composed)
        assert.ok(
          local.includes(name) ||
            name in APP_ENV_LEFT_UNSET ||
            (role === 'api' && API_ONLY_IN_COMPOSE.includes(name)),
          `compose's ${COMPOSE_SERVICE_OF[role]} sets ${name}, which test:cluster's ${role} does not get`,
        );
      // The same entry points, from the build instead of the image's dist/ (the processor is the test's own).
      if (!role.startsWith('processor'))
        assert.deepEqual(
          service.command,
          ['node', `dist/${APP_SCRIPTS[role]}`],
          `${role} runs what compose runs`,
        );
    }
  });
});

/** API settings compose has for browsers and the scraper, which no one uses in test:cluster. */
const API_ONLY_IN_COMPOSE = ['METRICS_PUBLIC', 'CORS_ORIGINS', 'TEMPORAL_UI_ORIGIN'];

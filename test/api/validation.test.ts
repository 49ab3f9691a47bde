import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ValidationError } from '../../api/errors';
import { guid, parseGuidParam } from '../../api/validation';
import { startTestApi, type TestApi } from '../support/api';
import { assertError, assertNoStack, type ExpectedDetail } from '../support/assertions';
import {
  createFlow,
  createReferences,
  ENTITY_NAMES,
  type EntityName,
  objectSchema,
  type ReferenceIds,
  unique,
  validBody,
} from '../support/fixtures';

const EMPTY_GUID = '00000000-0000-0000-0000-000000000000';

describe('validation', () => {
  let api: TestApi;
  /** Existing entities, so a body fails only for the field a test breaks. */
  let ids: ReferenceIds;

  before(async () => {
    api = await startTestApi();
    ids = await createReferences(api);
  });
  after(() => api.close());

  const valid = (entity: EntityName) => validBody(entity, ids);

  /** POSTs `body` and asserts 400 ValidationFailed with exactly `details`; and that nothing was stored. */
  async function rejects(entity: EntityName, body: unknown, details: ExpectedDetail[]): Promise<void> {
    const before = await api.request('GET', `/api/${entity}?limit=1`);
    const response = await api.request('POST', `/api/${entity}`, body);
    assertError(response, 400, 'ValidationFailed', details);
    const after = await api.request('GET', `/api/${entity}?limit=1`);
    assert.equal(
      after.headers.get('x-total-count'),
      before.headers.get('x-total-count'),
      'something was stored',
    );
  }

  async function accepts(entity: EntityName, body: unknown): Promise<Record<string, any>> {
    const response = await api.request('POST', `/api/${entity}`, body);
    assert.equal(response.status, 201, JSON.stringify(response.body));
    return response.body;
  }

  describe('required fields', () => {
    const required: Record<EntityName, string[]> = {
      Schema: ['version', 'name', 'definition'],
      Processor: ['version', 'name', 'inputSchemaId', 'outputSchemaId', 'implementationHash'],
      Step: ['version', 'name', 'processorId'],
      Workflow: ['version', 'name', 'stepIds'],
      OrchestratedFlow: ['version', 'name', 'workflowId'],
      Assignment: ['version', 'name', 'stepId', 'entityIds'],
      Address: ['version', 'name', 'connectionString'],
      Delivery: ['version', 'name', 'connectionString'],
    };
    for (const entity of ENTITY_NAMES)
      it(`${entity}: an empty body names every required field`, () =>
        rejects(
          entity,
          {},
          required[entity].map((field) => ({ field, rule: 'required' })),
        ));

    it('an empty or blank string counts as missing', () =>
      rejects('Address', { version: '', name: '   ', connectionString: '' }, [
        { field: 'version', rule: 'required', message: 'is required' },
        { field: 'name', rule: 'required', message: 'is required' },
        { field: 'connectionString', rule: 'required', message: 'is required' },
      ]));

    it('a value of the wrong type is named as such, not as missing', () =>
      rejects('Step', { version: 1, name: ['x'], processorId: 7, nextStepIds: 'abc', description: false }, [
        { field: 'version', rule: 'type', message: 'must be a string' },
        { field: 'name', rule: 'type', message: 'must be a string' },
        { field: 'description', rule: 'type', message: 'must be a string' },
        {
          field: 'processorId',
          rule: 'type',
          message: 'must be a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)',
        },
        { field: 'nextStepIds', rule: 'type' },
      ]));
  });

  describe('lengths and formats', () => {
    it('name: 200 characters are accepted, 201 are not', async () => {
      const body = valid('Schema');
      await accepts('Schema', { ...body, name: 'n'.repeat(200) });
      await rejects('Schema', { ...body, name: 'n'.repeat(201) }, [
        { field: 'name', rule: 'max', message: 'must be at most 200 characters' },
      ]);
    });

    it('version longer than 50 and description longer than 2000 characters are rejected', () =>
      rejects('Schema', { ...valid('Schema'), version: '1'.repeat(51), description: 'd'.repeat(2001) }, [
        { field: 'version', rule: 'max', message: 'must be at most 50 characters' },
        { field: 'description', rule: 'max', message: 'must be at most 2000 characters' },
      ]));

    for (const version of ['1 0', '-1', 'v1/2', '.1', 'é'])
      it(`version ${JSON.stringify(version)} is rejected`, () =>
        rejects('Schema', { ...valid('Schema'), version }, [
          { field: 'version', rule: 'regex', message: 'must be letters, digits and . _ + - (e.g. 1.0.0)' },
        ]));

    it('a name with control characters is rejected', () =>
      rejects('Schema', { ...valid('Schema'), name: 'line\nbreak' }, [
        { field: 'name', rule: 'regex', message: 'must not contain control characters' },
      ]));

    it('a malformed GUID in a body is rejected', () =>
      rejects('Step', { ...valid('Step'), processorId: 'not-a-guid', nextStepIds: [ids.step, 'x'] }, [
        { field: 'processorId', rule: 'guid' },
        { field: 'nextStepIds[1]', rule: 'guid' },
      ]));
  });

  describe("the spec's collection and GUID rules", () => {
    it('the empty GUID is rejected (NotEmptyGuid), alone and in a list (NoEmptyGuids)', async () => {
      await rejects('Step', { ...valid('Step'), processorId: EMPTY_GUID }, [
        { field: 'processorId', rule: 'NotEmptyGuid', message: 'must not be the empty GUID' },
      ]);
      await rejects('Workflow', { ...valid('Workflow'), stepIds: [ids.step, EMPTY_GUID] }, [
        { field: 'stepIds[1]', rule: 'NotEmptyGuid' },
      ]);
      await rejects('Assignment', { ...valid('Assignment'), stepId: EMPTY_GUID, entityIds: [EMPTY_GUID] }, [
        { field: 'stepId', rule: 'NotEmptyGuid' },
        { field: 'entityIds[0]', rule: 'NotEmptyGuid' },
      ]);
      await rejects('Address', { ...valid('Address'), schemaId: EMPTY_GUID }, [
        { field: 'schemaId', rule: 'NotEmptyGuid' },
      ]);
    });

    it('a workflow holds at most 10,000 steps, next steps and assignments at most 1,000 ids', async () => {
      const many = (count: number) => Array.from({ length: count }, () => randomUUID());
      await rejects('Workflow', { ...valid('Workflow'), stepIds: many(10_001) }, [
        { field: 'stepIds', rule: 'max', message: 'must hold at most 10000 ids' },
      ]);
      await rejects('Step', { ...valid('Step'), nextStepIds: many(1_001) }, [
        { field: 'nextStepIds', rule: 'max', message: 'must hold at most 1000 ids' },
      ]);
    });

    it('empty stepIds and entityIds are rejected (NotEmptyCollection)', async () => {
      await rejects('Workflow', { ...valid('Workflow'), stepIds: [] }, [
        { field: 'stepIds', rule: 'NotEmptyCollection', message: 'must contain at least one id' },
      ]);
      await rejects('Assignment', { ...valid('Assignment'), entityIds: [] }, [
        { field: 'entityIds', rule: 'NotEmptyCollection', message: 'must contain at least one id' },
      ]);
    });

    it('duplicate IDs in a list are rejected, however they are written', async () => {
      await rejects('Workflow', { ...valid('Workflow'), stepIds: [ids.step, ids.step.toUpperCase()] }, [
        { field: 'stepIds[1]', rule: 'unique', message: `duplicate id ${ids.step}` },
      ]);
      await rejects('Step', { ...valid('Step'), nextStepIds: [ids.step, ids.step] }, [
        { field: 'nextStepIds[1]', rule: 'unique' },
      ]);
      await rejects('Assignment', { ...valid('Assignment'), entityIds: [ids.address, ids.address] }, [
        { field: 'entityIds[1]', rule: 'unique' },
      ]);
      const flow = { ...valid('OrchestratedFlow'), assignmentIds: [ids.step, ids.step] };
      await rejects('OrchestratedFlow', flow, [{ field: 'assignmentIds[1]', rule: 'unique' }]);
    });

    it('GUIDs are stored and answered in lower case', async () => {
      const step = await accepts('Step', { ...valid('Step'), processorId: ids.processor.toUpperCase() });
      assert.equal(step.processorId, ids.processor);
    });
  });

  describe('Schema.definition', () => {
    it('must itself be a valid JSON Schema', async () => {
      const response = await api.request('POST', '/api/Schema', {
        ...valid('Schema'),
        definition: { type: 'nope' },
      });
      assertError(response, 400, 'ValidationFailed');
      const details = response.body.details as Array<{ field: string; rule: string; message: string }>;
      assert.ok(details.length >= 1);
      for (const detail of details)
        assert.deepEqual([detail.field, detail.rule], ['definition', 'jsonSchema']);
      assert.equal(
        details[0]!.message,
        'is not a valid JSON Schema: /type must be equal to one of the allowed values',
      );
    });

    it('a JSON Schema with a broken $ref or pattern is rejected', async () => {
      for (const definition of [{ $ref: '#/definitions/missing' }, { type: 'string', pattern: '(' }]) {
        const response = await api.request('POST', '/api/Schema', { ...valid('Schema'), definition });
        assertError(response, 400, 'ValidationFailed', [{ field: 'definition', rule: 'jsonSchema' }]);
      }
    });

    it('a draft 2020-12 document is checked against its own meta-schema', async () => {
      const definition = {
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'array',
        prefixItems: [{ type: 'string' }],
      };
      const created = await accepts('Schema', { ...valid('Schema'), definition });
      assert.deepEqual(created.definition, definition);
    });

    it('given as a string holding JSON, it is accepted and answered as JSON', async () => {
      const created = await accepts('Schema', {
        ...valid('Schema'),
        definition: JSON.stringify(objectSchema),
      });
      assert.deepEqual(created.definition, objectSchema);
    });

    it('given as a string that is not JSON, it is rejected', () =>
      rejects('Schema', { ...valid('Schema'), definition: 'type: object' }, [
        { field: 'definition', rule: 'json', message: 'is a string but not valid JSON' },
      ]));

    it('null, a number or an array is not a JSON Schema', async () => {
      for (const definition of [null, 42, [objectSchema]])
        await rejects('Schema', { ...valid('Schema'), definition }, [
          {
            field: 'definition',
            rule: 'jsonSchema',
            message: 'is not a valid JSON Schema: (root) a JSON Schema must be an object or a boolean',
          },
        ]);
    });
  });

  describe('Processor.implementationHash', () => {
    for (const [label, hash] of [
      ['63 hex characters', 'a'.repeat(63)],
      ['65 hex characters', 'a'.repeat(65)],
      ['a non-hex character', `${'a'.repeat(63)}g`],
      ['a sha256: prefix', `sha256:${'a'.repeat(64)}`],
    ])
      it(`rejects ${label}`, () =>
        rejects('Processor', { ...valid('Processor'), implementationHash: hash }, [
          {
            field: 'implementationHash',
            rule: 'regex',
            message: 'must be a SHA-256 digest: 64 hexadecimal characters',
          },
        ]));

    it('accepts upper case and answers lower case', async () => {
      const created = await accepts('Processor', {
        ...valid('Processor'),
        implementationHash: 'ABCDEF'.repeat(10) + '0123',
      });
      assert.equal(created.implementationHash, 'abcdef'.repeat(10) + '0123');
    });
  });

  describe('OrchestratedFlow schedule', () => {
    for (const cronExpression of ['*/5 * * * *', '0 30 9 * * 1-5', '@daily'])
      it(`accepts the cron expression ${JSON.stringify(cronExpression)}`, async () => {
        const created = await accepts('OrchestratedFlow', {
          ...valid('OrchestratedFlow'),
          cronExpression,
          isScheduleEnabled: true,
          timezone: 'America/New_York',
        });
        assert.equal(created.cronExpression, cronExpression);
        assert.equal(created.timezone, 'America/New_York');
      });

    it('rejects a cron expression with the wrong number of fields', () =>
      rejects('OrchestratedFlow', { ...valid('OrchestratedFlow'), cronExpression: 'every day' }, [
        {
          field: 'cronExpression',
          rule: 'cron',
          message:
            'must have 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds; found 2',
        },
      ]));

    it('rejects a cron expression with an out-of-range value', () =>
      rejects('OrchestratedFlow', { ...valid('OrchestratedFlow'), cronExpression: '61 * * * *' }, [
        { field: 'cronExpression', rule: 'cron', message: /^is not a valid cron expression: .*61/ },
      ]));

    for (const timezone of ['Mars/Olympus_Mons', 'Europe/Pariss', 'GMT+25', '../etc/passwd'])
      it(`rejects the time zone ${JSON.stringify(timezone)}`, () =>
        rejects('OrchestratedFlow', { ...valid('OrchestratedFlow'), timezone }, [
          {
            field: 'timezone',
            rule: 'ianaTimeZone',
            message: 'must be an IANA time zone such as Europe/Paris or UTC',
          },
        ]));

    it('rejects an enabled schedule without a cron expression', async () => {
      const expected = [
        {
          field: 'isScheduleEnabled',
          rule: 'requiresCronExpression',
          message: 'a schedule can only be enabled with a cronExpression',
        },
      ];
      await rejects('OrchestratedFlow', { ...valid('OrchestratedFlow'), isScheduleEnabled: true }, expected);
      const blank = { ...valid('OrchestratedFlow'), isScheduleEnabled: true, cronExpression: ' ' };
      await rejects('OrchestratedFlow', blank, expected);
    });

    it('a disabled schedule may keep its cron expression', async () => {
      const flow = await createFlow(api, ids.workflow, {
        cronExpression: '0 0 * * *',
        isScheduleEnabled: false,
      });
      assert.equal(flow.cronExpression, '0 0 * * *');
      assert.equal(flow.isScheduleEnabled, false);
    });
  });

  describe('malformed bodies', () => {
    it('malformed JSON answers 400 MalformedJson', async () => {
      for (const text of ['{"version": "1.0",', "{'version': '1.0'}", '{"a":1}}'])
        assertError(await api.request('POST', '/api/Schema', text), 400, 'MalformedJson', [
          { field: 'body', rule: 'json', message: 'must be valid JSON' },
        ]);
    });

    for (const [label, text] of [
      ['an array', '[{"version":"1.0"}]'],
      ['a string', '"hello"'],
      ['a number', '42'],
      ['null', 'null'],
    ])
      it(`${label} as body answers 400 naming the body`, async () => {
        for (const method of ['POST', 'PUT']) {
          const path = method === 'POST' ? '/api/Step' : `/api/Step/${ids.step}`;
          assertError(await api.request(method, path, text), 400, 'ValidationFailed', [
            {
              field: 'body',
              rule: 'object',
              message: 'must be a JSON object (Content-Type: application/json)',
            },
          ]);
        }
      });

    it('a body that is not sent as JSON is not read', async () => {
      const text = JSON.stringify(valid('Schema'));
      const response = await api.request('POST', '/api/Schema', text, { 'content-type': 'text/plain' });
      assertError(response, 400, 'ValidationFailed', [{ field: 'body', rule: 'object' }]);
      assertError(await api.request('POST', '/api/Schema'), 400, 'ValidationFailed', [
        { field: 'body', rule: 'object' },
      ]);
    });

    it('a body over the limit answers 413', async () => {
      const body = { ...valid('Schema'), definition: { description: 'x'.repeat(1024 * 1024) } };
      assertError(await api.request('POST', '/api/Schema', body), 413, 'PayloadTooLarge', [
        { field: 'body', rule: 'maxSize', message: 'exceeds the configured body limit' },
      ]);
    });

    it('a body just under the limit is accepted', async () => {
      const created = await accepts('Schema', {
        ...valid('Schema'),
        definition: { description: 'x'.repeat(1000 * 1000) },
      });
      assert.equal((created.definition as { description: string }).description.length, 1000 * 1000);
    });
  });

  describe('every problem is reported at once', () => {
    it('a body with three errors answers three details', () =>
      rejects('Step', { version: 'bad version', name: 'n'.repeat(201), processorId: EMPTY_GUID }, [
        { field: 'version', rule: 'regex' },
        { field: 'name', rule: 'max' },
        { field: 'processorId', rule: 'NotEmptyGuid' },
      ]));

    it('problems in nested fields and unknown fields come together', () =>
      rejects(
        'Step',
        {
          ...valid('Step'),
          entryCondition: 9,
          retryPolicy: { maximumAttempts: 0, backoffCoefficient: 0.5, jitter: true },
          timeouts: { startToCloseMs: -1 },
          owner: 'me',
        },
        [
          { field: 'entryCondition', rule: 'oneOf' },
          { field: 'retryPolicy.maximumAttempts', rule: 'min' },
          { field: 'retryPolicy.backoffCoefficient', rule: 'min' },
          { field: 'retryPolicy.jitter', rule: 'unknownField' },
          { field: 'timeouts.startToCloseMs', rule: 'min' },
          { field: 'owner', rule: 'unknownField' },
        ],
      ));

    it('schedule problems come together', () =>
      rejects(
        'OrchestratedFlow',
        {
          version: '1.0',
          name: `flow-${unique()}`,
          workflowId: 'x',
          cronExpression: 'nope',
          timezone: 'Nowhere/City',
        },
        [
          { field: 'workflowId', rule: 'guid' },
          { field: 'cronExpression', rule: 'cron' },
          { field: 'timezone', rule: 'ianaTimeZone' },
        ],
      ));

    it('Address.configuration values must be strings, each named', () =>
      rejects('Address', { ...valid('Address'), configuration: { retries: 3, method: 'GET', tls: true } }, [
        { field: 'configuration.retries', rule: 'type', message: 'configuration values must be strings' },
        { field: 'configuration.tls', rule: 'type', message: 'configuration values must be strings' },
      ]));
  });

  describe('values Postgres cannot store are rejected, not a 500', () => {
    it('U+0000 anywhere in a body', () =>
      rejects(
        'Address',
        {
          ...valid('Address'),
          description: 'a\u0000b',
          connectionString: 'file:///x\u0000',
          configuration: { 'k\u0000': 'v' },
        },
        [
          { field: 'connectionString', rule: 'noNullCharacter' },
          { field: 'description', rule: 'noNullCharacter' },
          { field: 'configuration.k\u0000', rule: 'noNullCharacter' },
        ],
      ));

    it('U+0000 inside JSON documents', () =>
      rejects('Step', { ...valid('Step'), configuration: { expression: '$.a\u0000' } }, [
        {
          field: 'configuration.expression',
          rule: 'noNullCharacter',
          message: 'must not contain the character U+0000',
        },
      ]));

    it('a number too large to be finite', () =>
      rejects('Schema', `{"version":"1.0","name":"big-${unique()}","definition":{"maximum":1e400}}`, [
        { field: 'definition.maximum', rule: 'finiteNumber', message: 'must be a finite number' },
      ]));

    it('nesting deeper than 64 levels; 60 levels are fine', async () => {
      const nest = (depth: number): unknown => {
        let value: unknown = { type: 'string' };
        for (let i = 0; i < depth; i++) value = { type: 'object', properties: { a: value } };
        return value;
      };
      // body → definition → (properties → a) per level: 2 levels each.
      const accepted = await accepts('Schema', { ...valid('Schema'), definition: nest(30) });
      assert.deepEqual(accepted.definition, nest(30));
      const deep = `${'{"type":"object","properties":{"a":'.repeat(5000)}{}${'}}'.repeat(5000)}`;
      const text = JSON.stringify(valid('Schema')).replace(/}$/, `,"definition":${deep}}`);
      const response = await api.request('POST', '/api/Schema', text);
      assertError(response, 400, 'ValidationFailed');
      assert.deepEqual(
        (response.body.details as Array<{ rule: string }>).map((d) => d.rule),
        ['maxDepth'],
      );
    });

    it('U+0000 in a composite key lookup', async () => {
      assertError(await api.request('GET', '/api/Schema/composite/1.0/a%00b'), 400, 'ValidationFailed', [
        { field: 'name', rule: 'noNullCharacter' },
      ]);
      const address = '/api/Address/composite/1.0/a?connectionString=x%00y';
      assertError(await api.request('GET', address), 400, 'ValidationFailed', [
        { field: 'query.connectionString', rule: 'noNullCharacter' },
      ]);
    });

    it('a path that is not valid percent-encoding', async () => {
      for (const path of ['/api/Step/%E0%A4%A', '/api/Step/processor/%ZZ', '/api/Schema/composite/%E0/x'])
        assertError(await api.request('GET', path), 400, 'MalformedPath', [
          { field: 'path', rule: 'uriEncoding' },
        ]);
    });
  });

  it('bad input never answers 500 nor leaks a stack trace', async () => {
    const bodies: unknown[] = [
      '{',
      '[]',
      '""',
      'true',
      { version: {}, name: {}, definition: {} },
      { version: '1', name: 'x', definition: { $ref: 'http://nowhere.test/schema.json' } },
      { version: '1', name: 'x', stepIds: Array.from({ length: 10_001 }, () => ids.step) },
      '{"__proto__":{"polluted":true},"version":"1","name":"x"}',
      `{"version":"1","name":"x","constructor":{"prototype":{"polluted":true}}}`,
    ];
    for (const entity of ENTITY_NAMES)
      for (const body of bodies) {
        for (const [method, path] of [
          ['POST', `/api/${entity}`],
          ['PUT', `/api/${entity}/${ids.step}`],
        ]) {
          const response = await api.request(method!, path!, body);
          const shown = `${method} ${path} ${JSON.stringify(body).slice(0, 80)} → ${response.status} ${JSON.stringify(response.body)}`;
          assert.equal(response.status, 400, shown);
          assert.equal(response.body.error, body === '{' ? 'MalformedJson' : 'ValidationFailed', shown);
          assert.ok(response.body.details.length > 0, shown);
          assertNoStack(response.body);
        }
      }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

describe('parseGuidParam', () => {
  /** What zod's `guid` answers for `value`: the lower-case GUID, or the details of the 400. */
  function throughZod(value: unknown): string | unknown[] {
    const result = guid.safeParse(value, { reportInput: true });
    return result.success ? result.data : result.error.issues.map((issue) => issue.message);
  }
  function throughParam(value: unknown): string | unknown[] {
    try {
      return parseGuidParam(value, 'id');
    } catch (error) {
      assert.ok(error instanceof ValidationError, String(error));
      return (error.details ?? []).map((detail) => detail.message);
    }
  }

  it('answers as the zod schema does, its fast path included', () => {
    const id = randomUUID();
    const inputs: unknown[] = [
      id,
      id.toUpperCase(),
      `{${id}}`,
      `${id}\n`,
      ` ${id}`,
      id.slice(1),
      id.replace(/-/g, ''),
      id.replace('-', '_'),
      `${id.slice(0, -1)}g`,
      EMPTY_GUID,
      '',
      undefined,
      null,
      42,
      [id],
    ];
    for (const input of inputs)
      assert.deepEqual(throughParam(input), throughZod(input), `for ${JSON.stringify(input)}`);
    assert.equal(throughParam(id.toUpperCase()), id);
    assert.deepEqual(throughParam(EMPTY_GUID), ['must not be the empty GUID']);
  });
});

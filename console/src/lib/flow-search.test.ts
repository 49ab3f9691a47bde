import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matchesSearch, searchFlows } from './flow-search';

describe('flow search', () => {
  const flows = [
    { name: 'Nightly Files', version: '2.0' },
    { name: 'GreetingFlow', version: '1.0' },
    { name: 'Café import', version: '1.10' },
    { name: 'Café import', version: '1.9' },
  ];
  it('matches every word, ignoring case and accents', () => {
    assert.equal(matchesSearch(flows[0]!, 'night files'), true);
    assert.equal(matchesSearch(flows[0]!, 'night greeting'), false);
    assert.equal(matchesSearch(flows[2]!, 'CAFE'), true);
    assert.equal(matchesSearch(flows[1]!, '  '), true);
  });
  it('sorts by name, then version numerically', () => {
    assert.deepEqual(
      searchFlows(flows, 'cafe').map((f) => f.version),
      ['1.9', '1.10'],
    );
    assert.deepEqual(
      searchFlows(flows, '').map((f) => f.name),
      ['Café import', 'Café import', 'GreetingFlow', 'Nightly Files'],
    );
  });
});

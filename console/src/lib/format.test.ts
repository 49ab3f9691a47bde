import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  durationBetween,
  formatAttempts,
  formatBytes,
  formatDuration,
  formatRelative,
  formatTime,
} from './format';

describe('formatDuration', () => {
  it('picks a unit people read at a glance', () => {
    assert.equal(formatDuration(0), '0 ms');
    assert.equal(formatDuration(850), '850 ms');
    assert.equal(formatDuration(4210), '4.2 s');
    assert.equal(formatDuration(42_000), '42 s');
    assert.equal(formatDuration(125_000), '2 min 5 s');
    assert.equal(formatDuration(120_000), '2 min');
    assert.equal(formatDuration(3_780_000), '1 h 3 min');
    assert.equal(formatDuration(3_600_000), '1 h');
    assert.equal(formatDuration(187_200_000), '2 d 4 h');
  });

  it('reads nonsense as a dash', () => {
    assert.equal(formatDuration(-1), '—');
    assert.equal(formatDuration(Number.NaN), '—');
  });
});

describe('durationBetween', () => {
  const now = Date.parse('2026-01-01T00:01:00Z');
  it('measures a finished span', () => {
    assert.equal(durationBetween('2026-01-01T00:00:00Z', '2026-01-01T00:00:02.500Z', now), 2500);
  });
  it('measures an open span until now', () => {
    assert.equal(durationBetween('2026-01-01T00:00:00Z', undefined, now), 60_000);
  });
  it('has no duration without a start', () => {
    assert.equal(durationBetween(undefined, '2026-01-01T00:00:00Z', now), undefined);
    assert.equal(durationBetween('garbage', null, now), undefined);
  });
});

describe('formatRelative', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  it('says how long ago or how soon', () => {
    assert.equal(formatRelative('2026-01-01T11:57:00Z', now), '3 min ago');
    assert.equal(formatRelative('2026-01-01T14:00:00Z', now), 'in 2 h');
    assert.equal(formatRelative('2026-01-01T11:59:58Z', now), 'just now');
    assert.equal(formatRelative(null, now), '—');
  });
});

describe('formatTime, formatBytes, formatAttempts', () => {
  it('formats a timestamp in the given zone', () => {
    assert.match(formatTime('2026-01-01T12:00:05Z', 'UTC'), /12:00:05/);
    assert.equal(formatTime(undefined), '—');
  });
  it('formats sizes', () => {
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(1536), '1.5 KB');
    assert.equal(formatBytes(3 * 1024 * 1024), '3.0 MB');
    assert.equal(formatBytes(300 * 1024 * 1024), '300 MB');
  });
  it('counts attempts', () => {
    assert.equal(formatAttempts(1), '1 attempt');
    assert.equal(formatAttempts(3), '3 attempts');
  });
});

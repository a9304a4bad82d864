/**
 * Every test must assert something: a test without an assertion cannot fail, so it fails here.
 * Loaded before each test file (vitest.config.ts, setupFiles).
 */
import { beforeEach, expect } from 'vitest';

beforeEach(() => {
  expect.hasAssertions();
});

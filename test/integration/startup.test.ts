import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../../dist/src/main.js', import.meta.url));

/** Runs the built service with exactly `env` and returns how it ended. */
function run(env: Record<string, string>): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('exit', (code) => resolve({ code, stderr, stdout }));
  });
}

const VALID = {
  SALESFORCE_LOGIN_URL: 'https://acme.my.salesforce.com',
  SALESFORCE_CLIENT_ID: 'id',
  SALESFORCE_CLIENT_SECRET: 'super-secret-value',
  SAP_BASE_URL: 'https://s4.example.com',
  SAP_USERNAME: 'u',
  SAP_PASSWORD: 'p4ssword',
  SERVICENOW_BASE_URL: 'https://acme.service-now.com',
  SERVICENOW_USERNAME: 'u',
  SERVICENOW_PASSWORD: 'p4ssword',
};

describe('start-up with a bad setting', () => {
  it('stops with one clear line naming the variable, and no stack trace', async () => {
    const { code, stderr, stdout } = await run({ ...VALID, SAP_BASE_URL: 'not a url', PORT: '99999' });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Invalid configuration: /);
    expect(lines[0]).toContain('SAP_BASE_URL must be a URL address (got "not a url")');
    expect(lines[0]).toContain('PORT must not be greater than 65535');
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('names a missing secret without printing any secret', async () => {
    const { code, stderr } = await run({ ...VALID, SALESFORCE_CLIENT_SECRET: '' });
    expect(code).toBe(1);
    expect(stderr).toContain('SALESFORCE_CLIENT_SECRET');
    expect(stderr).not.toContain('p4ssword');
  });

  it('reads a secret from a mounted file (NAME_FILE)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'c360-'));
    const file = join(dir, 'sap-password');
    writeFileSync(file, 'from-file-secret\n');
    const { SAP_PASSWORD: _unused, ...rest } = VALID;
    const { code, stderr } = await run({ ...rest, SAP_PASSWORD_FILE: file, PORT: '-1' });
    expect(code).toBe(1); // stopped by the bad PORT, not by the password
    expect(stderr).not.toContain('SAP_PASSWORD');
    expect(stderr).not.toContain('from-file-secret');
  });
});

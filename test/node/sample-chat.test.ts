// What `npm start` hands a person on a machine with a real node, followed as the README says: the
// sample tenant on the node's images and encrypted class becomes Ready, `run` prepares two accounts
// and the CA, and go-sendxmpp (a stock XMPP client from Debian) sends a message from one account to
// the other with the server verified against the tenant CA, using the commands `run` prints.
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENCRYPTED_STORAGE_CLASS } from "../../src/controlplane/node/addons.js";
import { chatAccessText, prepareChatAccess, type ChatAccess } from "../../src/devenv/chat-access.js";
import { SAMPLE_DOMAIN, SAMPLE_TENANT, sampleTenant } from "../../src/devenv/sample-tenant.js";
import { installOperatorChart } from "./support/operator-chart.js";
import { nodeKubeConfig, realNode } from "./support/pods.js";
import { applyTenant, waitForTenantReady } from "./support/tenants.js";

let dir = "";
let access: ChatAccess;

/** Runs a shell command line as printed for a person (the text `run` prints is what is tested). */
function shell(line: string, timeoutMs: number, input?: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    // A process group of its own: the timeout ends the client too, not only the shell around it.
    const child = spawn("/bin/sh", ["-c", line], { stdio: ["pipe", "pipe", "pipe"], detached: true, env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: dir } });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => process.kill(-child.pid!, "SIGTERM"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
    child.stdin.end(input ?? "");
  });
}

beforeAll(async () => {
  const node = realNode();
  await installOperatorChart();
  await applyTenant(sampleTenant({ storageClassName: ENCRYPTED_STORAGE_CLASS, images: { messaging: node.images.ejabberd, database: node.images.postgres } }));
  await waitForTenantReady(SAMPLE_TENANT);
  dir = await mkdtemp(path.join(os.tmpdir(), "cto-sample-chat-"));
  access = await prepareChatAccess(nodeKubeConfig(), SAMPLE_TENANT, SAMPLE_DOMAIN, path.join(dir, "chat"));
}, 600_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("chatting on the sample tenant as `npm start` tells a person to", () => {
  it("keeps the passwords in files only the user can read", async () => {
    for (const file of [access.accountsFile, ...access.accounts.map((a) => a.configFile)]) expect((await stat(file)).mode & 0o777, file).toBe(0o600);
    expect((await stat(path.dirname(access.accountsFile))).mode & 0o777).toBe(0o700);
    const lines = (await readFile(access.accountsFile, "utf8")).trim().split("\n");
    expect(lines.map((l) => l.split(" ")[0])).toEqual([`alice@${SAMPLE_DOMAIN}`, `bob@${SAMPLE_DOMAIN}`]);
    // The text printed to the terminal names the files, never a password.
    const text = chatAccessText(access);
    for (const line of lines) expect(text).not.toContain(line.split(" ")[1]);
  });

  it("go-sendxmpp, verifying the tenant CA, sends a message from bob that alice receives", async () => {
    const printed = chatAccessText(access).split("\n").map((l) => l.trim());
    const listen = printed.find((l) => l.includes("go-sendxmpp --listen"))!;
    const send = printed.find((l) => l.startsWith("echo "))!;
    expect(listen).toBeTruthy();
    expect(send).toBeTruthy();
    const listening = shell(listen, 20_000);
    await new Promise((r) => setTimeout(r, 4000));
    const sent = await shell(send, 30_000);
    expect(sent.code, sent.output).toBe(0);
    const heard = await listening;
    expect(heard.output).toContain(`bob@${SAMPLE_DOMAIN}: Hello from bob`);
  });

  it("the same client refuses the server when it trusts the system CAs instead of the tenant CA", async () => {
    const send = chatAccessText(access).split("\n").map((l) => l.trim()).find((l) => l.startsWith("echo "))!;
    const result = await shell(send.replace(`SSL_CERT_FILE=${access.caFile}`, "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"), 30_000);
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/certificate signed by unknown authority/);
  });
});

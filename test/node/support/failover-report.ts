/**
 * Where the failover test leaves its figures, and their shape: bench/failover.ts runs that test on
 * the real node and prints them. Outside the repository; overwritten by each run.
 */
import os from "node:os";
import path from "node:path";
import type { RecoveryFigures } from "./conversation.js";

export const FAILOVER_REPORT_FILE = path.join(os.tmpdir(), "chat-tenant-operator-failover-report.json");

export interface FailoverReport extends RecoveryFigures {
  /** When the primary was deleted (ISO 8601). */
  readonly date: string;
  readonly instances: number;
  readonly oldPrimary: string;
  readonly newPrimary: string;
  readonly archivedForRecipient: number;
  readonly archivedForSender: number;
  /** Stamped with an archive id, yet missing from the recipient's archive (ejabberd ignored a failed write). */
  readonly stampedNotArchived: number;
  /** Missing from the sender's archive (the sender is never told). */
  readonly notArchivedForSender: number;
  /** Archive rows of this run stored more than once for one user. */
  readonly duplicated: number;
  /** The SQL witness: commits acknowledged, lost, and its own recovery time. */
  readonly commits: { readonly acknowledged: number; readonly acknowledgedAfterKill: number; readonly lost: number; readonly rtoMs: number };
  readonly databaseCondition: ReadonlyArray<{ afterKillMs: number; status: string; reason: string; message: string }>;
}

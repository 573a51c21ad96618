// Type-checks the packed package's declarations as a consumer sees them:
// `tsc --strict`, ES2022 only (no DOM, no Node types), resolving
// `tessera-tokens` through its exports map. Compiled, never run.
import {
  type Actor,
  type CheckResult,
  MemoryStore,
  type Principal,
  type StoredRecord,
  TokenError,
  type TokenErrorCode,
  TokenService,
  type TokenStore,
  type Updated,
  parseToken,
  tokenPattern,
} from "tessera-tokens";

const store: TokenStore = new MemoryStore();
const tokens = new TokenService({
  prefix: "tsr",
  catalog: [{ action: "apps.read", kinds: ["read"] }],
  store,
  policy: { maxTokensPerUser: 10 },
});

export async function handle(header: string | null): Promise<number> {
  const result: CheckResult = await tokens.check(header, { action: "apps.read" });
  if (result.ok) {
    const principal: Principal = result.principal;
    return principal.userId.length;
  }
  const code: TokenErrorCode = result.code;
  return code === "SCOPE_DENIED" ? 403 : 401;
}

export async function issue(): Promise<string> {
  const { token, record } = await tokens.issue("u1", {
    name: "CI",
    expires: { at: new Date(Date.now() + 86_400_000) },
    scope: { actions: ["apps.read"], resources: ["orgs/acme/**"] },
  });
  const hidden: "hash" extends keyof typeof record ? never : true = true;
  return hidden ? token : "";
}

/** A token acting on tokens: the principal authenticate returns is an actor. */
export async function rotateAs(header: string, id: string): Promise<string[]> {
  const caller: Actor = await tokens.authenticate(header);
  const { record } = await tokens.rotate(caller, id, { graceSeconds: 60 });
  const updated: Updated = await tokens.update("u1", record.id, { status: "inactive" }, { cascade: true });
  return [...updated.affected, ...(await tokens.delete(caller, id, { cascade: true }))];
}

export function narrow(error: unknown): TokenErrorCode | undefined {
  return error instanceof TokenError ? error.code : undefined;
}

export const pattern: RegExp = tokenPattern("tsr");
export const id: string = parseToken("tsr_00000000000000000000000000000000000000000000MyxfL").id;
export type Stored = StoredRecord["hash"];

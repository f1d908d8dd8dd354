// A front end's walkthrough, type-checked with `tsc --strict` against the client types that
// openapi-typescript generates from the API's document (schema.d.ts, made at test time).
import createClient from "openapi-fetch";
import type { paths } from "./schema";

export async function walkthrough(baseUrl: string): Promise<string[]> {
  const client = createClient<paths>({ baseUrl });
  const credentials = { email: "ts@example.com", password: "password123" };
  await client.POST("/api/auth/signup", { body: credentials });
  const login = await client.POST("/api/auth/login", { body: credentials });
  if (!login.data) throw new Error(login.error.detail);
  const { token, user_id } = login.data;
  const auth = { Authorization: `Bearer ${token}` };
  const path = { user_id };

  // An optional description may be left out: `{title}` alone compiles.
  const created = await client.POST("/api/{user_id}/tasks", {
    params: { path, header: { "Idempotency-Key": "ts-1" } },
    headers: auth,
    body: { title: "Buy milk" },
  });
  if (!created.data) throw new Error(created.error.detail);
  const task = created.data; // every field present: no `task!.id`
  const etag = created.response.headers.get("ETag") ?? "";

  const page = await client.GET("/api/{user_id}/tasks", {
    params: { path, query: { sort: "-created_at", limit: 2 } },
    headers: auth,
  });
  const titles: string[] = (page.data ?? []).map((each) => each.title);
  const next: string | null = page.response.headers.get("Link");

  const renamed = await client.PATCH("/api/{user_id}/tasks/{task_id}", {
    params: { path: { user_id, task_id: task.id }, header: { "If-Match": etag } },
    headers: auth,
    body: { title: "Buy oat milk" },
  });
  if (renamed.error) {
    const status: number = renamed.error.status;
    titles.push(`refused ${status}`);
  }
  const toggled = await client.PATCH("/api/{user_id}/tasks/{task_id}/complete", {
    params: { path: { user_id, task_id: task.id } },
    headers: auth,
  });
  const done: boolean | undefined = toggled.data?.completed;
  await client.DELETE("/api/{user_id}/tasks/{task_id}", {
    params: { path: { user_id, task_id: task.id } },
    headers: auth,
  });
  return [...titles, String(done), next ?? "no next page"];
}

// A front end's walkthrough, type-checked with `tsc --strict` against the client types that
// openapi-typescript generates from the API's document (schema.d.ts, made at test time). It
// reads and writes every shape a client meets, with no cast, no `any` and no `!`: what the
// document says is all the narrowing a client needs.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

type Task = components["schemas"]["Task"];
type Operation = components["schemas"]["Operation"];

// What the document refuses at compile time, as the API refuses it at run time (422).
// @ts-expect-error a due date needs its date, or an instant with its zone
export const noDate: components["schemas"]["WholeDue"] = {};
// @ts-expect-error an instant needs its zone
export const noZone: components["schemas"]["WholeDue"] = { at: "2026-12-24T17:30:00Z" };
// @ts-expect-error a reminder is either before the due date or at an instant
export const neither: components["schemas"]["ReminderInput"] = {};
// @ts-expect-error a patch names its task and its changes
export const noId: Operation = { op: "patch" };
// @ts-expect-error a new recurrence needs its rule
export const noRule: components["schemas"]["WholeRecurrence"] = { from: "due" };

/** A due date as a person reads it: all-day, floating, or zoned (with the instant it names). */
export function dueText(task: Task): string {
  const due = task.due;
  if (due === null) return "no due date";
  if (due.time === null) return `all day ${due.date}`;
  if (due.timezone === null || due.at === null) return `${due.date} ${due.time}, wherever I am`;
  return `${due.date} ${due.time} in ${due.timezone} (${due.at})`;
}

/** A recurrence as a person reads it. */
export function recurrenceText(task: Task): string {
  const recurrence = task.recurrence;
  if (recurrence === null) return "once";
  const last = recurrence.last_completed_at ?? "never";
  const count = recurrence.completed_count;
  return `${recurrence.rule} from ${recurrence.from}, done ${count}x (${last})`;
}

export async function walkthrough(baseUrl: string): Promise<string[]> {
  const client = createClient<paths>({ baseUrl });
  const credentials = { email: "ts@example.com", password: "password123" };
  await client.POST("/api/auth/signup", { body: credentials });
  const login = await client.POST("/api/auth/login", { body: credentials });
  if (!login.data) throw new Error(login.error.detail);
  const { token, user_id } = login.data;
  const auth = { Authorization: `Bearer ${token}` };
  const path = { user_id };
  const seen: string[] = [];

  const list = await client.POST("/api/{user_id}/lists", {
    params: { path },
    headers: auth,
    body: { name: "Home" },
  });
  if (!list.data) throw new Error(list.error.detail);

  // An optional description may be left out: `{title}` alone compiles. Each due form, written.
  const created = await client.POST("/api/{user_id}/tasks", {
    params: { path, header: { "Idempotency-Key": "ts-1" } },
    headers: auth,
    body: {
      title: "Water the plants",
      list_id: list.data.id,
      labels: ["home"],
      due: { date: "2026-12-24" },
      recurrence: { rule: "FREQ=WEEKLY;INTERVAL=2" },
      reminders: [{ before: "PT15M" }],
    },
  });
  if (!created.data) throw new Error(created.error.detail);
  const task = created.data; // every field present: no `task!.id`
  const etag = created.response.headers.get("ETag") ?? "";
  const dues: components["schemas"]["WholeDue"][] = [
    { date: "2026-12-24", time: "18:30" },
    { date: "2026-12-24", time: "18:30", timezone: "Europe/Paris" },
    { at: "2026-12-24T17:30:00Z", timezone: "Europe/Paris" },
  ];
  for (const due of dues) {
    const timed = await client.POST("/api/{user_id}/tasks", {
      params: { path },
      headers: auth,
      body: { title: "Call home", due, reminders: [{ at: "2026-12-24T17:00:00Z" }] },
    });
    if (!timed.data) throw new Error(timed.error.detail);
    seen.push(dueText(timed.data), ...timed.data.reminders.map((r) => r.remind_at ?? "-"));
  }
  seen.push(dueText(task), recurrenceText(task), task.labels.join(","), task.list_id ?? "Inbox");

  // Read back: a page, its ETag, and a 304 while nothing changed.
  const page = await client.GET("/api/{user_id}/tasks", {
    params: { path, query: { sort: "-created_at", limit: 2, list_id: list.data.id } },
    headers: auth,
  });
  const titles: string[] = (page.data ?? []).map((each) => each.title);
  const next: string | null = page.response.headers.get("Link");
  const listTag = page.response.headers.get("ETag") ?? "";
  const again = await client.GET("/api/{user_id}/tasks", {
    params: {
      path,
      query: { sort: "-created_at", limit: 2, list_id: list.data.id },
      header: { "If-None-Match": listTag },
    },
    headers: auth,
  });
  seen.push(again.response.status === 304 ? "not modified" : "changed");

  // A merge patch: the time dropped (all-day), the recurrence counted from completion.
  const changed = await client.PATCH("/api/{user_id}/tasks/{task_id}", {
    params: { path: { user_id, task_id: task.id }, header: { "If-Match": etag } },
    headers: auth,
    body: { title: "Water the ferns", due: { time: null }, recurrence: { from: "completion" } },
  });
  if (changed.error) seen.push(`refused ${changed.error.status}: ${changed.error.detail}`);
  else seen.push(dueText(changed.data), recurrenceText(changed.data));

  const toggled = await client.PATCH("/api/{user_id}/tasks/{task_id}/complete", {
    params: { path: { user_id, task_id: task.id } },
    headers: auth,
  });
  const done: boolean | undefined = toggled.data?.completed;

  // Labels: counted, renamed everywhere at once.
  const labels = await client.GET("/api/{user_id}/labels", { params: { path }, headers: auth });
  for (const label of labels.data ?? []) seen.push(`${label.name} x${label.task_count}`);
  const renamed = await client.PATCH("/api/{user_id}/labels/{name}", {
    params: { path: { user_id, name: "home" } },
    headers: auth,
    body: { name: "house" },
  });
  seen.push(renamed.data?.name ?? "not renamed");

  // A batch: each operation typed by its op, each with what it needs.
  const chosen = crypto.randomUUID();
  const operations: Operation[] = [
    { op: "create", task: { id: chosen, title: "From the batch", due: null } },
    { op: "patch", id: chosen, changes: { priority: 2, labels: ["batch"] } },
    { op: "replace", id: chosen, task: { title: "Replaced", description: "whole" } },
    { op: "complete", id: chosen, completed: true },
    { op: "delete", id: chosen },
    { op: "restore", id: chosen },
  ];
  const batch = await client.POST("/api/{user_id}/batch", {
    params: { path },
    headers: auth,
    body: { atomic: false, operations },
  });
  for (const result of batch.data?.results ?? []) {
    seen.push(`${result.status} ${result.task?.title ?? result.problem?.detail ?? ""}`);
  }

  // The feed: everything at first, then only what changed since.
  const first = await client.GET("/api/{user_id}/changes", { params: { path }, headers: auth });
  if (!first.data) throw new Error(first.error.detail);
  const since = first.data.next;
  const later = await client.GET("/api/{user_id}/changes", {
    params: { path, query: { since } },
    headers: auth,
  });
  const feed = later.data;
  if (feed) seen.push(`${feed.tasks.length} changed, ${feed.deleted.length} deleted`);

  await client.DELETE("/api/{user_id}/tasks/{task_id}", {
    params: { path: { user_id, task_id: task.id } },
    headers: auth,
  });
  return [...titles, ...seen, String(done), next ?? "no next page"];
}

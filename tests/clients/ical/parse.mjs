// Reads a calendar on stdin with ical.js (the parser Thunderbird uses) and prints, as JSON,
// each VTODO or VEVENT as it reads it; with an argument (an ISO date), also each recurring
// one's occurrences (its own RRULE expansion) until that date.
import ICAL from "ical.js";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const calendar = new ICAL.Component(ICAL.parse(Buffer.concat(chunks).toString("utf8")));
for (const zone of calendar.getAllSubcomponents("vtimezone")) {
  ICAL.TimezoneService.register(zone);
}
const until = process.argv[2] ? ICAL.Time.fromDateString(process.argv[2]) : null;

function time(value) {
  if (!value) return null;
  return { text: value.toString(), isDate: value.isDate, zone: value.timezone || value.zone?.tzid || null };
}

const entries = [];
for (const kind of ["vtodo", "vevent"]) {
  for (const entry of calendar.getAllSubcomponents(kind)) {
    const related = entry.getFirstProperty("related-to");
    const start = entry.getFirstPropertyValue("dtstart");
    const rule = entry.getFirstPropertyValue("rrule");
    const found = {
      kind,
      uid: entry.getFirstPropertyValue("uid"),
      summary: entry.getFirstPropertyValue("summary"),
      description: entry.getFirstPropertyValue("description"),
      due: time(entry.getFirstPropertyValue("due")),
      dtstart: time(start),
      dtend: time(entry.getFirstPropertyValue("dtend")),
      status: entry.getFirstPropertyValue("status"),
      completed: time(entry.getFirstPropertyValue("completed")),
      priority: entry.getFirstPropertyValue("priority"),
      categories: entry.getAllProperties("categories").flatMap((p) => p.getValues()),
      parent: related ? related.getFirstValue() : null,
      reltype: related ? related.getParameter("reltype") : null,
      rrule: rule ? rule.toString() : null,
      alarms: entry.getAllSubcomponents("valarm").map((alarm) => {
        const trigger = alarm.getFirstProperty("trigger");
        return { value: trigger.getFirstValue().toString(), related: trigger.getParameter("related") };
      }),
    };
    if (rule && until) {
      const iterator = new ICAL.RecurIterator({ rule, dtstart: start });
      found.occurrences = [];
      for (let next = iterator.next(); next && next.compare(until) <= 0; next = iterator.next()) {
        found.occurrences.push(next.toString().slice(0, 10));
      }
    }
    entries.push(found);
  }
}
process.stdout.write(JSON.stringify(entries));

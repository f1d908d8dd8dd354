// Runs the browser recipe of docs/live.md (given as RECIPE) in headless Chromium, on a page of
// the API's own origin, and prints each page it hands over as one JSON line, then how it
// ended: `{"ended": reason}` (tests/test_live_browser.py reads these).
import { chromium } from "playwright-core";

const { API, USER_ID, TOKEN, RECIPE, CHROMIUM } = process.env;
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
try {
  const page = await browser.newPage();
  await page.goto(`${API}/healthz`);
  await page.exposeFunction("report", (line) => console.log(line));
  await page.addScriptTag({ content: RECIPE });
  const reason = await page.evaluate(
    ([api, userId, token]) =>
      follow(api, userId, token, (changes) => report(JSON.stringify(changes))),
    [API, USER_ID, TOKEN],
  );
  console.log(JSON.stringify({ ended: reason }));
} finally {
  await browser.close();
}

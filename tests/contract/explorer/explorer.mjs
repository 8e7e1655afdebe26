// todo-jwt's explorer (Swagger UI at /explorer) in a real browser, as a new user would use it:
// sign up and log in with "Try it out", paste the token under "Authorize", create a todo, then
// GET /whoAmI and GET /todos, and check the page shows the user id and the todo. The operation
// list must show plain summaries (no literal Markdown). A screenshot is kept as an artefact.
//
//   BASE=http://127.0.0.1:PORT SCREENSHOT=path.png node explorer.mjs
import { execFileSync } from "node:child_process";
import { chromium } from "playwright-core";

const base = process.env.BASE;
const screenshot = process.env.SCREENSHOT ?? "explorer.png";
if (!base) throw new Error("BASE is not set");
const executablePath = process.env.CHROMIUM ?? execFileSync("which", ["chromium"]).toString().trim();

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 2400 } });
page.setDefaultTimeout(20_000);

function fail(message) {
  throw new Error(message);
}

/** Opens an operation, fills its body if any, runs it, and returns [status, body text]. */
async function run(tag, operationId, body) {
  const block = page.locator(`#operations-${tag}-${operationId}`);
  if (!(await block.locator(".opblock-body").isVisible().catch(() => false))) {
    await block.locator(".opblock-summary-control").click();
  }
  const tryOut = block.locator("button.try-out__btn");
  if ((await tryOut.textContent())?.includes("Try it out")) await tryOut.click();
  if (body !== undefined) await block.locator("textarea.body-param__text").fill(JSON.stringify(body));
  await block.locator("button.execute").click();
  const status = block.locator(".live-responses-table .response .response-col_status").first();
  await status.waitFor();
  const code = (await status.textContent()).trim();
  const text = await block.locator(".live-responses-table .response .response-col_description").first().innerText();
  // Ready for the next run of the same operation.
  await block.locator("button.btn-clear").click().catch(() => {});
  return [code, text];
}

try {
  await page.goto(`${base}/explorer/`);
  await page.locator(".opblock").first().waitFor();

  const summaries = await page.locator(".opblock-summary-description").allTextContents();
  if (summaries.length < 10) fail(`only ${summaries.length} operations listed`);
  const marked = summaries.filter((s) => s.includes("`") || s.includes("**"));
  if (marked.length) fail(`summaries with literal Markdown: ${JSON.stringify(marked)}`);

  const credentials = { email: `browser-${Date.now()}@example.com`, password: "browser-password" };
  const [signupStatus, signupBody] = await run("users", "signup", credentials);
  if (signupStatus !== "200") fail(`signup answered ${signupStatus}: ${signupBody}`);
  const userId = JSON.parse(signupBody.slice(signupBody.indexOf("{"), signupBody.lastIndexOf("}") + 1)).id;

  const [loginStatus, loginBody] = await run("users", "login", credentials);
  if (loginStatus !== "200") fail(`login answered ${loginStatus}: ${loginBody}`);
  const token = JSON.parse(loginBody.slice(loginBody.indexOf("{"), loginBody.lastIndexOf("}") + 1)).token;

  // Authorize: paste the token for the bearer scheme.
  await page.locator("button.btn.authorize").first().click();
  const dialog = page.locator(".modal-ux");
  await dialog.locator("input").first().fill(token);
  await dialog.locator("button.btn.modal-btn.auth.authorize").first().click();
  await dialog.locator("button.btn-done, button.close-modal").first().click();

  const [meStatus, meBody] = await run("users", "who_am_i");
  if (meStatus !== "200" || !meBody.includes(userId)) fail(`GET /whoAmI answered ${meStatus}: ${meBody}`);

  const [createStatus, createBody] = await run("todos", "create", { title: "written in the browser" });
  if (createStatus !== "200") fail(`POST /todos answered ${createStatus}: ${createBody}`);
  const [listStatus, listBody] = await run("todos", "list");
  if (listStatus !== "200" || !listBody.includes("written in the browser")) {
    fail(`GET /todos answered ${listStatus}: ${listBody}`);
  }
  console.log(`explorer: signed up ${userId}, logged in, authorized; /whoAmI and /todos shown in the page`);
} finally {
  await page.screenshot({ path: screenshot, fullPage: true }).catch(() => {});
  await browser.close();
}

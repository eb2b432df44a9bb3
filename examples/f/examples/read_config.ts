import * as wmill from "windmill-client";

// Reads a variable and a resource through the in-job SDK (served locally by `wmill script preview`).
export async function main(prefix_variable: string = "f/examples/greeting_prefix") {
  const prefix = await wmill.getVariable(prefix_variable);
  const db = await wmill.getResource("f/examples/db");
  return { prefix, database: `${db.user}@${db.host}:${db.port}/${db.dbname}` };
}

// PostGraphile 5 as a team would run it beside billbridge's database: the amber preset,
// the public schema, no auth. `run.sh` sets DATABASE_URL, PORT and PGOPTIONS (jit=off).
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";
import { jsonPgSmartTags } from "postgraphile/utils";

// billbridge's `subscriptions` table would be named like GraphQL's `Subscription` root
// type, and PostGraphile would leave it out: give it another name.
const Renames = jsonPgSmartTags({
  version: 1,
  config: { class: { subscriptions: { tags: { name: "account_subscriptions" } } } },
});

export default {
  extends: [PostGraphileAmberPreset],
  plugins: [Renames],
  pgServices: [
    makePgService({ connectionString: process.env.DATABASE_URL, schemas: ["public"] }),
  ],
  grafserv: { host: "127.0.0.1", port: Number(process.env.PORT ?? 5678) },
};

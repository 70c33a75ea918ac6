// ESLint for the browser code: ES modules that the pages load as they are, no build step.
import js from "@eslint/js";
import globals from "globals";

export default [
  {
    ignores: ["node_modules/", "var/", ".venv/"],
  },
  js.configs.recommended,
  {
    files: ["static/js/**/*.js"],
    languageOptions: {
      ecmaVersion: "latest",
      sourceType: "module",
      globals: globals.browser,
    },
    linterOptions: {
      reportUnusedDisableDirectives: "error",
    },
    rules: {
      "array-callback-return": "error",
      eqeqeq: ["error", "always", { null: "ignore" }],
      "no-implicit-globals": "error",
      "no-promise-executor-return": "error",
      "no-self-compare": "error",
      "no-template-curly-in-string": "error",
      "no-throw-literal": "error",
      "no-unmodified-loop-condition": "error",
      "no-unused-vars": ["error", { args: "after-used", caughtErrors: "none" }],
      "no-var": "error",
      "prefer-const": "error",
    },
  },
  {
    // The browser code's unit tests run under Node (make test-js).
    files: ["tests/js/**/*.js"],
    languageOptions: { ecmaVersion: "latest", sourceType: "module", globals: globals.node },
  },
  {
    // The service worker runs in its own global scope, not a page's.
    files: ["static/js/sw.js"],
    languageOptions: { sourceType: "script", globals: globals.serviceworker },
  },
];

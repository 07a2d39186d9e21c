import baseConfig from "../eslint.config.mjs";

export default [
    ...baseConfig,
    {
        files: ["**/*.js"],
        languageOptions: { sourceType: "commonjs", globals: { require: "readonly", module: "writable", __dirname: "readonly", process: "readonly", console: "readonly" } },
        rules: { "@typescript-eslint/no-require-imports": "off" }
    }
];

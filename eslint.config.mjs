import nx from "@nx/eslint-plugin";

export default [
    ...nx.configs["flat/base"],
    ...nx.configs["flat/typescript"],
    ...nx.configs["flat/javascript"],
    {
        ignores: [
            "**/dist",
            "**/out-tsc",
            "**/node_modules",
            ".vita"
        ]
    },
    {
        files: [
            "**/*.ts",
            "**/*.tsx",
            "**/*.js",
            "**/*.jsx"
        ],
        rules: {
            "@nx/enforce-module-boundaries": [
                "error",
                {
                    enforceBuildableLibDependency: true,
                    allow: [
                        "^.*/eslint(\\.base)?\\.config\\.[cm]?[jt]s$",
                        // Build configuration, not code: every service's webpack.config.js uses the shared one.
                        "^.*/tools/build/service\\.webpack$"
                    ],
                    depConstraints: [
                        { sourceTag: "type:app", onlyDependOnLibsWithTags: ["type:lib"] },
                        { sourceTag: "type:lib", onlyDependOnLibsWithTags: ["type:lib"] },
                        { sourceTag: "scope:shared", onlyDependOnLibsWithTags: ["scope:shared"] },
                        { sourceTag: "scope:api", onlyDependOnLibsWithTags: ["scope:api", "scope:shared"] },
                        { sourceTag: "scope:web", onlyDependOnLibsWithTags: ["scope:web", "scope:shared"] },
                        { sourceTag: "scope:lb", onlyDependOnLibsWithTags: ["scope:lb", "scope:shared"] },
                        { sourceTag: "scope:repl", onlyDependOnLibsWithTags: ["scope:repl", "scope:shared"] },
                        { sourceTag: "scope:dns", onlyDependOnLibsWithTags: ["scope:dns", "scope:shared"] },
                        { sourceTag: "scope:tools", onlyDependOnLibsWithTags: ["scope:tools", "scope:shared"] }
                    ]
                }
            ]
        }
    },
    {
        files: [
            "**/*.ts",
            "**/*.tsx",
            "**/*.cts",
            "**/*.mts",
            "**/*.js",
            "**/*.jsx",
            "**/*.cjs",
            "**/*.mjs"
        ],
        // Override or add rules here
        rules: {
            "@typescript-eslint/no-explicit-any": "error",
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }]
        }
    },
    {
        files: ["**/*.spec.ts"],
        rules: {
            // Tests index into fixtures they built themselves.
            "@typescript-eslint/no-non-null-assertion": "off"
        }
    }
];

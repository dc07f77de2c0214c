import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Time and randomness come from injected drivers (STYLE.md): only the clock and random-source
// drivers read the machine's own. These rules forbid the rest: Date.now, new Date() and
// Math.random.
const clockAndRandom = (time, random) => ({
  'no-restricted-properties': [
    'error',
    { object: 'Date', property: 'now', message: time },
    { object: 'Math', property: 'random', message: random },
  ],
  'no-restricted-syntax': [
    'error',
    { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: time },
  ],
});

export default tseslint.config(
  { ignores: ['node_modules/**', '.hostfleet/**', 'web/dist/**', 'docs/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        Buffer: 'readonly',
        AbortController: 'readonly',
        fetch: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/drivers/clock/**', 'src/drivers/random/**'],
    rules: clockAndRandom(
      'take a Clock (src/drivers/clock) and ask it the time.',
      'take a RandomSource (src/drivers/random) or a seeded Rng.',
    ),
  },
  {
    // The product never imports the world the embedded site emulates (DESIGN.md): a real fleet
    // replaces src/emulators without a change to the product. src/core's own rule below covers it.
    files: ['src/services/**/*.ts', 'src/drivers/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/emulators/**'],
              message: 'the product does not import src/emulators; only the CLI, tests and benchmarks start emulators.',
            },
          ],
        },
      ],
    },
  },
  {
    // src/core is pure: time and randomness are arguments, and it does no I/O.
    files: ['src/core/**/*.ts'],
    ignores: ['src/core/**/*.test.ts'],
    rules: {
      ...clockAndRandom('src/core is pure: take the time as an argument.', 'src/core is pure: take a seeded Rng.'),
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', 'fs', 'http', 'net', 'child_process'], message: 'src/core does no I/O.' },
            {
              group: ['**/drivers/**', '**/services/**', '**/cli/**', '**/sim/**', '**/emulators/**'],
              message: 'src/core imports nothing outside src/core.',
            },
          ],
        },
      ],
    },
  },
);

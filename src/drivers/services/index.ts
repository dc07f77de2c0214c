/**
 * services are the drivers of the software a service server runs for accounts: nginx (web),
 * BIND (DNS), Postfix and Dovecot (mail), Pure-FTPd (FTP). Each checks what it writes with
 * the real tool before it goes live (see driver.ts for the contract).
 */
export * from './driver.js';
export { nginxDriver } from './nginx.js';
export type { NginxOptions } from './nginx.js';
export { bindDriver } from './bind.js';
export type { BindOptions } from './bind.js';
export { mailDriver } from './mail.js';
export type { MailOptions } from './mail.js';
export { pureFtpdDriver } from './pureftpd.js';
export type { PureFtpdOptions } from './pureftpd.js';
export { run, startDaemon, waitForPort } from './process.js';

// The list of verbs; program.ts builds commander from it.
import type { CommandSpec } from '../command.js';
import { command as buildPackage } from './build-package.js';
import { command as compareVersions } from './compare-versions.js';
import { command as createCa } from './create-ca.js';
import { command as createKeycert } from './create-keycert.js';
import { command as makeTemplate } from './make-template.js';
import { command as scanpackages } from './scanpackages.js';
import { command as serve } from './serve.js';
import { command as sign } from './sign.js';
import { command as update } from './update.js';
import { command as list } from './list.js';
import { command as search } from './search.js';
import { command as show } from './show.js';
import { command as listUpgrade } from './list-upgrade.js';
import { command as download } from './download.js';
import { command as bundle } from './bundle.js';
import { command as verify } from './verify.js';
import { command as inventory } from './inventory.js';
import { command as register } from './register.js';
import { command as updateStatus } from './update-status.js';
import { command as install } from './install.js';
import { command as upgrade } from './upgrade.js';
import { command as remove } from './remove.js';
import { command as forget } from './forget.js';
import { command as downloadUpgrade } from './download-upgrade.js';
import { command as clean } from './clean.js';
import { command as checkUpgrades } from './check-upgrades.js';
import { command as hold } from './hold.js';
import { command as unhold } from './unhold.js';
import { command as audit } from './audit.js';
import { command as sessionSetup } from './session-setup.js';

export const commands: CommandSpec[] = [
  createCa,
  createKeycert,
  makeTemplate,
  buildPackage,
  sign,
  verify,
  scanpackages,
  serve,
  bundle,
  update,
  list,
  search,
  show,
  listUpgrade,
  download,
  install,
  upgrade,
  remove,
  forget,
  downloadUpgrade,
  clean,
  checkUpgrades,
  hold,
  unhold,
  audit,
  sessionSetup,
  inventory,
  register,
  updateStatus,
  compareVersions,
];

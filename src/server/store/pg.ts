import type { FleetStore } from './types.js';
export const PgStore = {
  async open(_url: string): Promise<FleetStore> {
    throw new Error('the PostgreSQL store is not built yet');
  },
};

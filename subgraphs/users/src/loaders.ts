import type DataLoader from 'dataloader';
import { rowsById, type Principal, type ShardedDb } from '@commerce/kit';

export interface UserRow {
  id: string;
  email: string;
  name: string;
  created_at: Date;
}

export interface UsersLoaders {
  userById: DataLoader<string, UserRow | null>;
}

export const USER_COLUMNS = 'id, email, name, created_at';

export function createUsersLoaders(db: ShardedDb, principal: Principal): UsersLoaders {
  return {
    userById: rowsById<UserRow>(
      db,
      principal.consistencyKey,
      `SELECT ${USER_COLUMNS} FROM users WHERE id = ANY($1::bigint[])`,
    ),
  };
}

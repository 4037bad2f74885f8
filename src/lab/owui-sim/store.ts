// The simulator's "database": users, API keys and chats, shared by replicas the way Postgres is,
// and independent of Redis (Redis down must not lose users).
//
// Contract: `createStore({kind:'memory'})` is per process (single-replica tests);
// `createStore({kind:'file', dir})` keeps one JSON file per record under `dir`, written atomically
// (temp file + rename) and read through on every lookup, so several processes see each other's
// writes at once. Email uniqueness is enforced with an exclusive create of the email index file.

import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { StoreConfig } from './config.js';

const scrypt = promisify(scryptCb) as (
  pw: string,
  salt: string,
  len: number,
  opts: { N: number },
) => Promise<Buffer>;

export type Role = 'admin' | 'user' | 'pending';

export interface SimUser {
  id: string;
  email: string;
  name: string;
  role: Role;
  profile_image_url: string;
  password_hash: string;
  salt: string;
  api_key: string | null;
  created_at: number;
  updated_at: number;
}

export interface SimMessage {
  id: string;
  parentId: string | null;
  childrenIds: string[];
  role: 'user' | 'assistant';
  content: string;
  done?: boolean;
  model?: string;
  output?: unknown[];
  usage?: unknown;
  error?: unknown;
  timestamp: number;
  [key: string]: unknown;
}

export interface SimChat {
  id: string;
  user_id: string;
  title: string;
  chat: {
    title: string;
    models: string[];
    history: { messages: Record<string, SimMessage>; currentId: string | null };
  };
  created_at: number;
  updated_at: number;
}

export interface SimStore {
  ping(): Promise<void>;
  countUsers(): Promise<number>;
  getUser(id: string): Promise<SimUser | undefined>;
  getUserByEmail(email: string): Promise<SimUser | undefined>;
  getUserByApiKey(key: string): Promise<SimUser | undefined>;
  /** False when the email is taken. */
  insertUser(user: SimUser): Promise<boolean>;
  setApiKey(userId: string, key: string | null): Promise<void>;
  getChat(id: string): Promise<SimChat | undefined>;
  putChat(chat: SimChat): Promise<void>;
}

/** Cheap scrypt (N=1024): sign-in cost is not what this lab measures. */
export async function hashPassword(
  password: string,
  salt = randomBytes(8).toString('hex'),
): Promise<{ hash: string; salt: string }> {
  const key = await scrypt(password, salt, 32, { N: 1024 });
  return { hash: key.toString('hex'), salt };
}

export async function checkPassword(user: SimUser, password: string): Promise<boolean> {
  const { hash } = await hashPassword(password, user.salt);
  const a = Buffer.from(hash, 'hex');
  const b = Buffer.from(user.password_hash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Namespaced key-value records; the store logic above it is the same for memory and files. */
interface Kv {
  get(ns: string, key: string): Promise<string | undefined>;
  put(ns: string, key: string, value: string): Promise<void>;
  /** False when the key exists. */
  create(ns: string, key: string, value: string): Promise<boolean>;
  delete(ns: string, key: string): Promise<void>;
  count(ns: string): Promise<number>;
  ping(): Promise<void>;
}

class MemoryKv implements Kv {
  private readonly data = new Map<string, Map<string, string>>();
  private ns(ns: string): Map<string, string> {
    let m = this.data.get(ns);
    if (!m) this.data.set(ns, (m = new Map()));
    return m;
  }
  async get(ns: string, key: string): Promise<string | undefined> {
    return this.ns(ns).get(key);
  }
  async put(ns: string, key: string, value: string): Promise<void> {
    this.ns(ns).set(key, value);
  }
  async create(ns: string, key: string, value: string): Promise<boolean> {
    const m = this.ns(ns);
    if (m.has(key)) return false;
    m.set(key, value);
    return true;
  }
  async delete(ns: string, key: string): Promise<void> {
    this.ns(ns).delete(key);
  }
  async count(ns: string): Promise<number> {
    return this.ns(ns).size;
  }
  async ping(): Promise<void> {}
}

class FileKv implements Kv {
  private seq = 0;
  constructor(private readonly dir: string) {}
  /** Keys are hashed into file names: emails and API keys are not safe path parts. */
  private path(ns: string, key: string): string {
    return join(this.dir, ns, `${createHash('sha256').update(key).digest('hex').slice(0, 40)}.json`);
  }
  async init(): Promise<void> {
    for (const ns of ['users', 'emails', 'apikeys', 'chats'])
      await mkdir(join(this.dir, ns), { recursive: true });
  }
  async get(ns: string, key: string): Promise<string | undefined> {
    try {
      return await readFile(this.path(ns, key), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }
  async put(ns: string, key: string, value: string): Promise<void> {
    const target = this.path(ns, key);
    const tmp = `${target}.${process.pid}.${this.seq++}.tmp`;
    await writeFile(tmp, value);
    await rename(tmp, target);
  }
  async create(ns: string, key: string, value: string): Promise<boolean> {
    try {
      await writeFile(this.path(ns, key), value, { flag: 'wx' });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
  }
  async delete(ns: string, key: string): Promise<void> {
    await rm(this.path(ns, key), { force: true });
  }
  async count(ns: string): Promise<number> {
    return (await readdir(join(this.dir, ns))).filter((f) => f.endsWith('.json')).length;
  }
  async ping(): Promise<void> {
    await readdir(this.dir);
  }
}

class KvStore implements SimStore {
  constructor(private readonly kv: Kv) {}
  ping(): Promise<void> {
    return this.kv.ping();
  }
  countUsers(): Promise<number> {
    return this.kv.count('users');
  }
  async getUser(id: string): Promise<SimUser | undefined> {
    const raw = await this.kv.get('users', id);
    return raw === undefined ? undefined : (JSON.parse(raw) as SimUser);
  }
  async getUserByEmail(email: string): Promise<SimUser | undefined> {
    const id = await this.kv.get('emails', email.trim().toLowerCase());
    return id === undefined ? undefined : this.getUser(id);
  }
  async getUserByApiKey(key: string): Promise<SimUser | undefined> {
    const id = await this.kv.get('apikeys', key);
    const user = id === undefined ? undefined : await this.getUser(id);
    return user?.api_key === key ? user : undefined;
  }
  async insertUser(user: SimUser): Promise<boolean> {
    if (!(await this.kv.create('emails', user.email.trim().toLowerCase(), user.id))) return false;
    await this.kv.put('users', user.id, JSON.stringify(user));
    return true;
  }
  async setApiKey(userId: string, key: string | null): Promise<void> {
    const user = await this.getUser(userId);
    if (!user) return;
    if (user.api_key) await this.kv.delete('apikeys', user.api_key);
    if (key) await this.kv.put('apikeys', key, userId);
    await this.kv.put(
      'users',
      userId,
      JSON.stringify({ ...user, api_key: key, updated_at: Math.floor(Date.now() / 1000) }),
    );
  }
  async getChat(id: string): Promise<SimChat | undefined> {
    const raw = await this.kv.get('chats', id);
    return raw === undefined ? undefined : (JSON.parse(raw) as SimChat);
  }
  async putChat(chat: SimChat): Promise<void> {
    await this.kv.put('chats', chat.id, JSON.stringify(chat));
  }
}

export async function createStore(config: StoreConfig): Promise<SimStore> {
  if (config.kind === 'memory') return new KvStore(new MemoryKv());
  const kv = new FileKv(config.dir);
  await kv.init();
  return new KvStore(kv);
}

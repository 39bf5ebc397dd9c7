import { Component, computed, inject, input, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { Router, RouterLink } from '@angular/router';
import { ApiError, describeError, humanSeconds } from '../core/api';
import { Session } from '../core/session';

const USERNAME = /^[A-Za-z0-9_.-]{3,32}$/;

@Component({
  selector: 'c4a-login',
  imports: [FormsModule, RouterLink],
  template: `
    <main class="auth">
      <form class="auth__card" (ngSubmit)="submit()" novalidate [attr.aria-busy]="busy()">
        <div class="auth__brand" aria-hidden="true">
          <svg viewBox="0 0 64 64" width="44" height="44"><rect width="64" height="64" rx="14" fill="currentColor"/><path d="M16 20a6 6 0 0 1 6-6h20a6 6 0 0 1 6 6v14a6 6 0 0 1-6 6H30l-9 8v-8h1a6 6 0 0 1-6-6z" fill="#fff"/></svg>
        </div>
        <h1>{{ register() ? 'Create your account' : 'Sign in to Chat4All' }}</h1>
        @if (session.endedReason(); as reason) {
          <p class="auth__notice" role="status">{{ reason }}</p>
        }
        <label class="field">
          <span>{{ register() ? 'Username' : 'Username or email' }}</span>
          <input name="login" [(ngModel)]="login" autocomplete="username" required autofocus
                 [attr.aria-invalid]="!!fieldError()['username']" aria-describedby="login-err" />
          <small id="login-err" class="field__error">{{ fieldError()['username'] }}</small>
        </label>
        @if (register()) {
          <label class="field">
            <span>Email</span>
            <input name="email" type="email" [(ngModel)]="email" autocomplete="email" required
                   [attr.aria-invalid]="!!fieldError()['email']" aria-describedby="email-err" />
            <small id="email-err" class="field__error">{{ fieldError()['email'] }}</small>
          </label>
        }
        <label class="field">
          <span>Password</span>
          <input name="password" type="password" [(ngModel)]="password" required
                 [attr.autocomplete]="register() ? 'new-password' : 'current-password'"
                 [attr.aria-invalid]="!!fieldError()['password']" aria-describedby="password-err" />
          <small id="password-err" class="field__error">{{ fieldError()['password'] }}</small>
        </label>
        @if (error()) {
          <p class="auth__error" role="alert">{{ error() }}</p>
        }
        <button class="btn btn--primary btn--block" type="submit" [disabled]="busy()">
          {{ busy() ? 'Please wait…' : register() ? 'Create account' : 'Sign in' }}
        </button>
        <p class="auth__switch">
          @if (register()) {
            Already have an account? <a routerLink="/login">Sign in</a>
          } @else {
            New here? <a routerLink="/register">Create an account</a>
          }
        </p>
      </form>
    </main>
  `,
})
export class Login {
  readonly session = inject(Session);
  private readonly router = inject(Router);
  readonly mode = input<'login' | 'register'>('login');
  readonly next = input<string | undefined>(undefined);
  readonly register = computed(() => this.mode() === 'register');
  login = '';
  email = '';
  password = '';
  readonly busy = signal(false);
  readonly error = signal<string | null>(null);
  readonly fieldError = signal<Record<string, string>>({});

  async submit(): Promise<void> {
    if (this.busy()) return;
    const problems = this.check();
    this.fieldError.set(problems);
    this.error.set(null);
    if (Object.keys(problems).length) return;
    this.busy.set(true);
    try {
      if (this.register()) {
        await this.session.register(this.login, this.email, this.password);
      } else {
        await this.session.login(this.login, this.password);
      }
      const next = this.next();
      await this.router.navigateByUrl(next && next.startsWith('/') && !next.startsWith('//') ? next : '/');
    } catch (e) {
      this.explain(e);
    } finally {
      this.busy.set(false);
    }
  }

  private check(): Record<string, string> {
    const p: Record<string, string> = {};
    const login = this.login.trim();
    if (this.register()) {
      if (!USERNAME.test(login)) p['username'] = '3 to 32 letters, digits, dots, dashes or underscores.';
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(this.email.trim())) p['email'] = 'Enter an email address.';
      if (this.password.length < 8) p['password'] = 'At least 8 characters.';
      else if (this.password.length > 128) p['password'] = 'At most 128 characters.';
    } else {
      if (!login) p['username'] = 'Enter your username or email.';
      if (!this.password) p['password'] = 'Enter your password.';
    }
    return p;
  }

  private explain(e: unknown): void {
    if (!(e instanceof ApiError)) {
      this.error.set(describeError(e));
      return;
    }
    if (e.code === 'unauthenticated') {
      this.error.set('Wrong username or password.');
    } else if (e.code === 'rate_limited') {
      const wait = e.retryAfterSeconds ? ` in ${humanSeconds(e.retryAfterSeconds)}` : ' later';
      this.error.set(`Too many attempts. For your safety, sign-in is paused — try again${wait}.`);
    } else if (e.code === 'forbidden') {
      this.error.set('This account is suspended or closed.');
    } else if (e.code === 'conflict' && e.field === 'username') {
      this.fieldError.set({ username: 'That username is taken.' });
    } else if (e.code === 'conflict' && e.field === 'email') {
      this.fieldError.set({ email: 'An account with this email already exists.' });
    } else if ((e.code === 'validation_failed' || e.code === 'weak_password') && e.field) {
      this.fieldError.set({ [e.field]: e.message });
    } else {
      this.error.set(describeError(e));
    }
  }
}

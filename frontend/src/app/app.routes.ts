import { inject } from '@angular/core';
import { CanActivateFn, Router, Routes } from '@angular/router';
import { Login } from './auth/login';
import { Shell } from './chat/shell';
import { Session } from './core/session';

const signedIn: CanActivateFn = (_route, state) =>
  inject(Session).loggedIn() || inject(Router).createUrlTree(['/login'], { queryParams: state.url !== '/' ? { next: state.url } : {} });
const signedOut: CanActivateFn = () => !inject(Session).loggedIn() || inject(Router).createUrlTree(['/']);

export const routes: Routes = [
  { path: 'login', component: Login, canActivate: [signedOut], data: { mode: 'login' }, title: 'Sign in · Chat4All' },
  { path: 'register', component: Login, canActivate: [signedOut], data: { mode: 'register' }, title: 'Create account · Chat4All' },
  { path: 'c/:id', component: Shell, canActivate: [signedIn], title: 'Chat4All' },
  { path: '', component: Shell, canActivate: [signedIn], pathMatch: 'full', title: 'Chat4All' },
  { path: '**', redirectTo: '' },
];

import { Component, effect, inject } from '@angular/core';
import { Router, RouterOutlet } from '@angular/router';
import { Session } from './core/session';

@Component({
  selector: 'c4a-root',
  imports: [RouterOutlet],
  template: `<router-outlet />`,
})
export class App {
  private readonly session = inject(Session);
  private readonly router = inject(Router);

  constructor() {
    // the session ended (logout here or in another tab, refresh refused): back to the login page
    let was = this.session.loggedIn();
    effect(() => {
      const now = this.session.loggedIn();
      if (was && !now) {
        void this.router.navigate(['/login']);
      }
      was = now;
    });
  }
}

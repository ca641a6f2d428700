// Sign in and out against /api/v1/auth; the CSRF token from the login answer
// goes with every unsafe request.
(function () {
  'use strict';
  var csrf = null;
  var $ = function (id) { return document.getElementById(id); };

  function show(user) {
    $('login').hidden = !!user;
    $('me').hidden = !user;
    if (user) {
      $('who').textContent = user.display_name || user.username;
      $('role').textContent = user.role;
    }
  }

  $('login').addEventListener('submit', function (ev) {
    ev.preventDefault();
    $('error').textContent = '';
    fetch('/api/v1/auth/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: $('username').value, password: $('password').value })
    }).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, body: body }; });
    }).then(function (res) {
      if (!res.ok) { $('error').textContent = res.body.detail || '登录失败'; return; }
      csrf = res.body.csrf_token;
      show(res.body.user);
    }).catch(function () { $('error').textContent = '网络错误，请重试'; });
  });

  $('logout').addEventListener('click', function () {
    fetch('/api/v1/auth/logout', { method: 'POST', headers: { 'X-CSRF-Token': csrf || '' } })
      .then(function () { csrf = null; show(null); });
  });

  fetch('/api/v1/auth/me').then(function (r) { return r.ok ? r.json() : null; })
    .then(function (me) { if (me) { csrf = me.csrf_token || null; show(me.user || me); } });
})();

/** Test support shared by every module's tests. */
package io.chat4all.testkit;

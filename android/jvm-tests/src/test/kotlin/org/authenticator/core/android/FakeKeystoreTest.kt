package org.authenticator.core.android

import android.app.Application
import org.junit.After
import org.junit.Before
import org.robolectric.RuntimeEnvironment

/**
 * The base of the Robolectric tests that need the Android Keystore: the application [context], and
 * [FakeAndroidKeyStore] installed before each test and uninstalled after it (the JDK's provider list
 * outlives Robolectric's per-API-level class loaders). Subclasses still bring their own
 * `@RunWith(RobolectricTestRunner::class)` and `@Config`.
 */
abstract class FakeKeystoreTest {
    protected lateinit var context: Application
    protected lateinit var keystore: FakeAndroidKeyStore

    @Before
    fun installFakeKeystore() {
        context = RuntimeEnvironment.getApplication()
        keystore = FakeAndroidKeyStore.install()
    }

    @After
    fun uninstallFakeKeystore() {
        FakeAndroidKeyStore.uninstall()
    }
}

package org.authenticator.core.android

import android.service.credentials.CredentialProviderService
import java.io.File
import javax.xml.parsers.DocumentBuilderFactory
import kotlin.test.assertEquals
import kotlin.test.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.annotation.Config
import org.w3c.dom.Element

/**
 * The module's manifest declares the provider as Credential Manager looks for it, and its
 * provider XML names the type requests carry. Read as XML here (AAPT and the manifest merger need
 * the SDK: see android/README.md).
 */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [34])
class PasskeyManifestTest {
    private val android = "http://schemas.android.com/apk/res/android"
    private val main = File(System.getProperty("repo.dir") ?: error("repo.dir not set (run through Maven)"), "android/authenticator/src/main")

    private fun parse(file: File): Element =
        DocumentBuilderFactory.newInstance().apply { isNamespaceAware = true }.newDocumentBuilder().parse(file).documentElement

    private fun Element.children(tag: String): List<Element> =
        (0 until getElementsByTagName(tag).length).map { getElementsByTagName(tag).item(it) as Element }

    @Test
    fun the_service_is_bound_only_by_the_system_and_points_at_the_provider_xml() {
        val service = parse(File(main, "AndroidManifest.xml")).children("service")
            .single { it.getAttributeNS(android, "name") == PasskeyProviderService::class.java.name }
        assertEquals("true", service.getAttributeNS(android, "exported"))
        assertEquals("android.permission.BIND_CREDENTIAL_PROVIDER_SERVICE", service.getAttributeNS(android, "permission"))
        val action = service.children("action").single().getAttributeNS(android, "name")
        assertEquals(CredentialProviderService.SERVICE_INTERFACE, action)
        val meta = service.children("meta-data").single()
        assertEquals(CredentialProviderService.SERVICE_META_DATA, meta.getAttributeNS(android, "name"))
        assertEquals("@xml/authenticator_credential_provider", meta.getAttributeNS(android, "resource"))
    }

    @Test
    fun the_provider_xml_declares_the_passkey_type_requests_carry() {
        val provider = parse(File(main, "res/xml/authenticator_credential_provider.xml"))
        assertEquals("credential-provider", provider.tagName)
        val capabilities = provider.children("capability").map { it.getAttribute("name") }
        assertEquals(listOf(PasskeyProvider.TYPE_PUBLIC_KEY_CREDENTIAL), capabilities)
    }

    @Test
    fun the_activity_is_declared_and_not_exported() {
        val activity = parse(File(main, "AndroidManifest.xml")).children("activity")
            .single { it.getAttributeNS(android, "name") == PasskeyActivity::class.java.name }
        assertEquals("false", activity.getAttributeNS(android, "exported"))
        assertTrue(activity.getAttributeNS(android, "theme").startsWith("@android:style/Theme.Translucent"))
    }
}
